import { z } from "zod";

/** The JSON Schema of sidecar.yaml (what a user may write: defaults are optional), for editors. */
export function sidecarJsonSchema(configSchema: z.ZodType): string {
  const schema = z.toJSONSchema(configSchema, { io: "input", unrepresentable: "any" });
  return `${JSON.stringify(
    { ...schema, $id: "https://sidecar.dev/schema/sidecar.schema.json", title: "sidecar.yaml" },
    null,
    2,
  )}\n`;
}
