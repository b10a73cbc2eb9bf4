import type { ValidateFunction } from "ajv";
import { parse as parseYaml } from "yaml";
import { fs } from "../runtime/builtins.ts";
import { describeError, SidecarError } from "../runtime/errors.ts";
import type { ConfigSection, OutputConfig } from "./config-section.ts";
import { ConfigErrorCodes } from "./error-codes.ts";
import { checkTemplate, formatOf, type RenderInput } from "./render.ts";
import { type CheckCommand, compileSchema } from "./validate.ts";

/** An output ready to render: its template read, its schema compiled, its mode decided. */
export interface PreparedOutput extends RenderInput {
  /** How messages name it: `outputs[0] "app.json"`. */
  label: string;
  mode: number;
  schema: ValidateFunction | undefined;
  check: CheckCommand | undefined;
}

function setupError(label: string, message: string, cause?: unknown): SidecarError {
  return new SidecarError(ConfigErrorCodes.SETUP, `Config output ${label}: ${message}`, { cause });
}

async function readSchema(label: string, schema: OutputConfig["schema"]) {
  if (schema === undefined) return undefined;
  let object: unknown = schema;
  if (typeof schema === "string") {
    try {
      const text = await fs.promises.readFile(schema, "utf8");
      object = schema.endsWith(".json") ? JSON.parse(text) : parseYaml(text);
    } catch (error) {
      throw setupError(label, `cannot read schema "${schema}": ${describeError(error)}`, error);
    }
  }
  try {
    return compileSchema(object as Record<string, unknown>);
  } catch (error) {
    throw setupError(label, `the JSON Schema is invalid: ${describeError(error)}`, error);
  }
}

/**
 * Turns the section's outputs into prepared ones. Without outputs, each source's entries are
 * published as files at the top of outputDir. Throws SIDECAR_ERR_CONFIG_SETUP naming the output
 * when a template or schema cannot be read or does not parse.
 */
export async function prepareOutputs(section: ConfigSection): Promise<PreparedOutput[]> {
  const secret = new Map(section.sources.map((s) => [s.name, s.secret]));
  const anySecret = section.sources.some((s) => s.secret);
  if (section.outputs.length === 0) {
    return section.sources.map((source) => ({
      label: `of source "${source.name}"`,
      path: "",
      format: "text",
      what: { kind: "source", source: source.name, key: undefined },
      mode: source.secret ? 0o600 : 0o644,
      schema: undefined,
      check: undefined,
    }));
  }
  const prepared: PreparedOutput[] = [];
  for (const [index, output] of section.outputs.entries()) {
    const label = `outputs[${index}] "${output.path}"`;
    const format = output.format ?? formatOf(output.path);
    let what: RenderInput["what"];
    if (output.source !== undefined) {
      what = { kind: "source", source: output.source, key: output.key };
    } else if (output.template !== undefined || output.templateFile !== undefined) {
      let template = output.template;
      if (template === undefined) {
        try {
          template = await fs.promises.readFile(output.templateFile!, "utf8");
        } catch (error) {
          throw setupError(
            label,
            `cannot read template "${output.templateFile}": ${describeError(error)}`,
            error,
          );
        }
      }
      try {
        checkTemplate(template);
      } catch (error) {
        throw setupError(label, `the template does not parse: ${describeError(error)}`, error);
      }
      what = { kind: "template", template, missingKey: output.missingKey };
    } else {
      if (format === "text")
        throw setupError(label, "a text output needs a template (or a json, yaml or env format)");
      what = { kind: "values" };
    }
    if (
      output.schema !== undefined &&
      (format === "text" || (what.kind === "source" && !output.key))
    )
      throw setupError(label, "a schema needs a json, yaml or env output of one file");
    const fedBySecret = what.kind === "source" ? secret.get(what.source) === true : anySecret;
    prepared.push({
      label,
      path: output.path,
      format,
      what,
      mode: output.mode ?? (fedBySecret ? 0o600 : 0o644),
      schema: await readSchema(label, output.schema),
      check: output.check,
    });
  }
  return prepared;
}

/** The layout `auto` picks: files replaced in place for one single-file output, else versioned. */
export function chooseLayout(
  layout: ConfigSection["layout"],
  outputs: readonly PreparedOutput[],
): "versioned" | "plain" {
  if (layout !== "auto") return layout;
  const single =
    outputs.length === 1 &&
    (outputs[0]!.what.kind !== "source" || outputs[0]!.what.key !== undefined);
  return single ? "plain" : "versioned";
}
