import { z } from "zod";
import { apiKeyFilter } from "./api-key/index.ts";
import { authzFilter } from "./authz/index.ts";
import { buildFilter as buildFilterOf } from "./build-filter.ts";
import type { FilterBuildContext, FilterComponent, ProxyFilter } from "./filter.ts";
import { forwardAuthFilter } from "./forward-auth/index.ts";
import { jwtFilter } from "./jwt/index.ts";
import { rateLimitFilter } from "./rate-limit/index.ts";

/** Every filter type; a new one adds its folder and its component to both lists here. */
export const filterComponents = [
  rateLimitFilter,
  apiKeyFilter,
  jwtFilter,
  forwardAuthFilter,
  authzFilter,
] as const;

/** One entry of a `filters:` list, by its `type`. */
export const filterConfigSchema = z.discriminatedUnion(
  "type",
  [
    rateLimitFilter.schema,
    apiKeyFilter.schema,
    jwtFilter.schema,
    forwardAuthFilter.schema,
    authzFilter.schema,
  ],
  {
    error: `expected a filter with a known type: ${filterComponents.map((c) => c.type).join(", ")}`,
  },
);
export type FilterConfig = z.infer<typeof filterConfigSchema>;

/** Builds one configured filter from the built-in types, or from `types`. */
export function buildFilter(
  config: { type: string },
  ctx: FilterBuildContext,
  types: readonly FilterComponent[] = filterComponents,
): ProxyFilter {
  return buildFilterOf(config, ctx, types);
}
