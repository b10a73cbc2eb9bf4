import type { FilterBuildContext, FilterComponent, ProxyFilter } from "./filter.ts";

/**
 * Builds one configured filter from `types`: the built-in ones (registry.ts, which the proxy
 * loads only when its config has filters, since each brings its config schema and so zod)
 * and an embedder's or a test's own, whose config the caller has validated.
 */
export function buildFilter(
  config: { type: string },
  ctx: FilterBuildContext,
  types: readonly FilterComponent[],
): ProxyFilter {
  const component = types.find((c) => c.type === config.type);
  if (!component) throw new TypeError(`Unknown filter type "${config.type}"`);
  return component.build(config, ctx);
}
