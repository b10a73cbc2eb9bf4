import { z } from "zod";
import { sidecarConfigSchema } from "./schema.ts";

/** The JSON Schema of sidecar.yaml (what a user may write: defaults are optional), for editors. */
export function sidecarJsonSchema(): string {
  const schema = z.toJSONSchema(sidecarConfigSchema, { io: "input", unrepresentable: "any" });
  return `${JSON.stringify(
    { ...schema, $id: "https://sidecar.dev/schema/sidecar.schema.json", title: "sidecar.yaml" },
    null,
    2,
  )}\n`;
}
