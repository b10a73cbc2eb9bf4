import { z } from "zod";
import { seconds } from "../runtime/config/schema-helpers.ts";
import { notifyConfigSchema } from "./notify/notify-config.ts";
import { sourceConfigSchema } from "./sources/source-config.ts";

/** A file mode in octal, as a string so YAML does not read it as decimal: `"0600"`. */
export const fileModeSchema = z
  .string()
  .regex(/^0?[0-7]{3}$/, { error: 'expected an octal file mode in quotes, e.g. "0644"' })
  .transform((value) => Number.parseInt(value, 8));

const relativePath = z
  .string()
  .min(1)
  .refine(
    (value) =>
      !value.startsWith("/") && !value.split("/").some((part) => part === ".." || part === ""),
    { error: "expected a relative path inside outputDir, without .. or empty parts" },
  )
  .refine((value) => !value.startsWith(".."), {
    error: 'names starting with ".." are reserved for versions',
  });

export const outputFormatSchema = z.enum(["json", "yaml", "env", "text"]);
export type OutputFormat = z.infer<typeof outputFormatSchema>;

/**
 * One output: a template rendered with the merged values of every source, the merged values
 * written as JSON/YAML/.env, or (`source`) a source's raw files.
 */
export const outputConfigSchema = z
  .strictObject({
    /** Where, relative to outputDir: a file, or a directory for a `source` output without `key`. */
    path: relativePath,
    /** A mustache template (logic-less: no code runs). */
    template: z.string().optional(),
    /** A file holding the template. */
    templateFile: z.string().min(1).optional(),
    /** Publish this source's entries as files as they are (no rendering). */
    source: z.string().min(1).optional(),
    /** With `source`: only this entry, as the file at `path`. */
    key: z.string().min(1).optional(),
    /** json/yaml/env are checked after rendering; default by extension, else text. */
    format: outputFormatSchema.optional(),
    /** Default 0644, or 0600 when a `secret` source feeds this output. */
    mode: fileModeSchema.optional(),
    /** A template key with no value fails the version (`error`) or renders empty (`empty`). */
    missingKey: z.enum(["error", "empty"]).default("error"),
    /** A JSON Schema (inline, or the path of a .json/.yaml file) the parsed output must match. */
    schema: z.union([z.string().min(1), z.record(z.string(), z.unknown())]).optional(),
    /** A command run on the staged file before publishing (like `nginx -t`); non-zero exit fails the version. */
    check: z
      .strictObject({
        /** `{file}` in an argument is replaced by the staged file's path, `{dir}` by the staged version's directory. */
        command: z.array(z.string().min(1)).min(1),
        timeoutSeconds: seconds(10, { min: 0.1 }),
      })
      .optional(),
  })
  .refine(
    (o) => [o.template, o.templateFile, o.source].filter((v) => v !== undefined).length <= 1,
    { error: "set at most one of template, templateFile and source" },
  )
  .refine((o) => o.key === undefined || o.source !== undefined, {
    error: "key needs source",
  });
export type OutputConfig = z.infer<typeof outputConfigSchema>;

/**
 * The `config:` section: fetch from sources, render, validate, publish atomically into
 * outputDir, then notify the app.
 *
 * @example
 * config:
 *   outputDir: /etc/app
 *   sources: [{ name: settings, type: file, path: /etc/configmap }]
 *   outputs: [{ path: app.json, template: '{"level": "{{log.level}}"}' }]
 *   notify: [{ type: http, url: http://127.0.0.1:8080/-/reload }]
 */
export const configSectionSchema = z
  .strictObject({
    /** The directory shared with the app (an emptyDir in a Pod); created if missing. */
    outputDir: z.string().min(1),
    /**
     * `versioned`: every version in its own directory behind a `..data` symlink swap (a reader never
     * sees two versions mixed); `plain`: each file replaced by rename; `auto`: plain for one file, else versioned.
     */
    layout: z.enum(["auto", "versioned", "plain"]).default("auto"),
    /** Versions kept on disk in the versioned layout (the current one and the ones before it). */
    keepVersions: z.number().int().min(1).max(100).default(2),
    sources: z.array(sourceConfigSchema).min(1, { error: "expected at least one source" }),
    /** Default: every source's entries as files at the top of outputDir. */
    outputs: z.array(outputConfigSchema).default([]),
    /** Quiescence: publish once changes have stopped for `minSeconds`, and at most `maxSeconds` after the first. */
    wait: z
      .strictObject({
        minSeconds: seconds(0.05),
        /** Default 4 × minSeconds. */
        maxSeconds: z.number().min(0).optional(),
      })
      .prefault({}),
    notify: z.array(notifyConfigSchema).default([]),
    /** Publish once and exit (what `sidecar config --once` sets; an init container). Ignored in `sidecar run`. */
    once: z.boolean().default(false),
  })
  .superRefine((section, ctx) => {
    const names = new Set<string>();
    section.sources.forEach((source, index) => {
      if (names.has(source.name))
        ctx.addIssue({
          code: "custom",
          path: ["sources", index, "name"],
          message: `another source is named "${source.name}"`,
        });
      names.add(source.name);
    });
    section.outputs.forEach((output, index) => {
      if (output.source !== undefined && !names.has(output.source))
        ctx.addIssue({
          code: "custom",
          path: ["outputs", index, "source"],
          message: `no source is named "${output.source}" (sources: ${[...names].join(", ")})`,
        });
    });
    const max = section.wait.maxSeconds;
    if (max !== undefined && max < section.wait.minSeconds)
      ctx.addIssue({
        code: "custom",
        path: ["wait", "maxSeconds"],
        message: "expected maxSeconds ≥ minSeconds",
      });
  });

export type ConfigSection = z.infer<typeof configSectionSchema>;
export type ConfigSectionInput = z.input<typeof configSectionSchema>;
