import { z } from "zod";
import type { FilterBuildContext, ProxyFilter } from "./filter.ts";
import { rateLimitFilter } from "./rate-limit/index.ts";

/** Every filter type; a new one adds its folder and its component to both lists here. */
export const filterComponents = [rateLimitFilter] as const;

/** One entry of a `filters:` list, by its `type`. */
export const filterConfigSchema = z.discriminatedUnion("type", [rateLimitFilter.schema]);
export type FilterConfig = z.infer<typeof filterConfigSchema>;

/** Builds one configured filter. */
export function buildFilter(config: FilterConfig, ctx: FilterBuildContext): ProxyFilter {
  const component = filterComponents.find((c) => c.type === config.type)!;
  return component.build(config, ctx);
}
