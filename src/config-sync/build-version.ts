import { describeError } from "../runtime/errors.ts";
import type { FailStage } from "./config-metrics.ts";
import type { PreparedOutput } from "./prepare-outputs.ts";
import { type Publisher, type PublishFile, versionHash } from "./publish/publisher.ts";
import { renderOutput } from "./render.ts";
import type { SourceSnapshot } from "./sources/config-source.ts";
import { runCheck, schemaProblems } from "./validate.ts";
import { mergeValues, type ParseMode } from "./values.ts";

export interface VersionInputs {
  outputs: readonly PreparedOutput[];
  /** The sources that have values, in source order (later wins in the merge). */
  sources: readonly { name: string; snapshot: SourceSnapshot; parse: ParseMode }[];
  publisher: Publisher;
  /** The hash of what the app has now (published, or found on disk at start). */
  currentHash: string | undefined;
}

export type VersionOutcome =
  | { outcome: "unchanged"; hash: string; files: PublishFile[] }
  | { outcome: "published"; hash: string; files: PublishFile[] }
  | { outcome: "failed"; stage: FailStage; reason: string };

/**
 * One version, start to end: merge the sources' values, render every output, stop if the
 * content equals the current version, check the JSON Schemas, stage the files, run the check
 * commands on the staged files, and commit. Any failure leaves the current version as it is.
 */
export async function buildVersion(inputs: VersionInputs): Promise<VersionOutcome> {
  const { outputs, sources, publisher } = inputs;
  const snapshots = new Map(sources.map((s) => [s.name, s.snapshot]));
  const files: PublishFile[] = [];
  const parsed: unknown[] = [];
  try {
    const values = mergeValues(sources);
    const seen = new Set<string>();
    for (const output of outputs) {
      let rendered: ReturnType<typeof renderOutput>;
      try {
        rendered = renderOutput(output, values, snapshots);
      } catch (error) {
        throw new Error(`output ${output.label}: ${describeError(error)}`);
      }
      for (const [path, data] of rendered.files) {
        if (seen.has(path)) throw new Error(`two outputs write "${path}"`);
        seen.add(path);
        files.push({ path, data, mode: output.mode });
      }
      parsed.push(rendered.parsed);
    }
    if (files.length === 0) throw new Error("the outputs are empty (no entries in the sources)");
  } catch (error) {
    return { outcome: "failed", stage: "render", reason: describeError(error) };
  }
  const hash = versionHash(files);
  if (hash === inputs.currentHash) return { outcome: "unchanged", hash, files };
  const problems: string[] = [];
  outputs.forEach((output, index) => {
    if (output.schema)
      for (const problem of schemaProblems(output.schema, parsed[index]))
        problems.push(`${output.label} ${problem}`);
  });
  if (problems.length)
    return { outcome: "failed", stage: "validate", reason: `schema: ${problems.join("; ")}` };
  let staged: Awaited<ReturnType<Publisher["stage"]>>;
  try {
    staged = await publisher.stage(files);
  } catch (error) {
    return { outcome: "failed", stage: "publish", reason: `cannot write: ${describeError(error)}` };
  }
  for (const output of outputs) {
    if (!output.check) continue;
    const failed = await runCheck(output.check, {
      file: staged.fileFor(output.path),
      dir: staged.dir,
    });
    if (failed) {
      await staged.discard().catch(() => {});
      return { outcome: "failed", stage: "validate", reason: `${output.label}: ${failed}` };
    }
  }
  try {
    await staged.commit();
  } catch (error) {
    await staged.discard().catch(() => {});
    return {
      outcome: "failed",
      stage: "publish",
      reason: `cannot publish: ${describeError(error)}`,
    };
  }
  return { outcome: "published", hash, files };
}
