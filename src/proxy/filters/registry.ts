import { z } from "zod";
import type { FilterBuildContext, FilterComponent, ProxyFilter } from "./filter.ts";
import { rateLimitFilter } from "./rate-limit/index.ts";

/** Every filter type; a new one adds its folder and its component to both lists here. */
export const filterComponents = [rateLimitFilter] as const;

/** One entry of a `filters:` list, by its `type`. */
export const filterConfigSchema = z.discriminatedUnion("type", [rateLimitFilter.schema], {
  error: `expected a filter with a known type: ${filterComponents.map((c) => c.type).join(", ")}`,
});
export type FilterConfig = z.infer<typeof filterConfigSchema>;

/**
 * Builds one configured filter from the built-in types, or from `types` (an embedder's or a
 * test's own filter types, whose config the caller has validated).
 */
export function buildFilter(
  config: { type: string },
  ctx: FilterBuildContext,
  types: readonly FilterComponent[] = filterComponents,
): ProxyFilter {
  const component = types.find((c) => c.type === config.type);
  if (!component) throw new TypeError(`Unknown filter type "${config.type}"`);
  return component.build(config, ctx);
}
