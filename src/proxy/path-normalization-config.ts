import { z } from "zod";

/**
 * How request paths are normalized before routing. The normalized path is both what routes
 * match and what the app receives, so the app never sees a path that matched a different route.
 */
export const pathNormalizationSchema = z.strictObject({
  /**
   * `%2F`, `%5C` and a raw `\`: "reject" (400), "keep" (left as they are: `/a%2Fb` is one
   * segment and never matches `/a/b`), or "decode" (turned into `/`, then normalized).
   */
  encodedSlashes: z.enum(["reject", "keep", "decode"]).default("reject"),
  /**
   * `;params` in a segment (`/admin;jsessionid=1`, `/public/..;/admin`), which Tomcat and Spring
   * drop before routing: "strip" them, "reject" (400) or "keep".
   */
  pathParameters: z.enum(["strip", "reject", "keep"]).default("strip"),
  /** `//admin` → `/admin`. */
  mergeSlashes: z.boolean().default(true),
});
export type PathNormalization = z.infer<typeof pathNormalizationSchema>;
export const defaultPathNormalization: PathNormalization = pathNormalizationSchema.parse({});
