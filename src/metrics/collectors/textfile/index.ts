import { join } from "node:path";
import { fs } from "../../../runtime/builtins.ts";
import { describeError } from "../../../runtime/errors.ts";
import type { MetricFamily } from "../../../runtime/telemetry/exposition/metric-family.ts";
import { parseExposition } from "../../../runtime/telemetry/exposition/parse-exposition.ts";
import { defineCollector, FamilyBuilder, single } from "../collector.ts";

/**
 * Metrics from `*.prom` files in a directory (written by cron jobs and scripts: write to a
 * temp name, then rename). Each file is validated as Prometheus text: a file that does not
 * parse, has timestamps, or redeclares another file's family with another type is skipped
 * whole and sets node_textfile_scrape_error to 1; node_textfile_mtime_seconds{file} tells
 * when each file changed.
 */
export const textfileCollector = defineCollector({
  name: "textfile",
  defaultEnabled: true,
  create: ({ options, logger }) => {
    const reported = new Map<string, string>();
    const fail = (file: string, problem: string) => {
      if (reported.get(file) === problem) return;
      reported.set(file, problem);
      logger.warn({ file, error: problem }, "textfile skipped");
    };
    return {
      async collect() {
        const directory = options.textfile.directory;
        let error = 0;
        const families = new Map<string, MetricFamily>();
        const mtimes = new FamilyBuilder(
          "node_textfile_mtime_seconds",
          "gauge",
          "Unixtime mtime of textfiles successfully read.",
        );
        const names = directory
          ? await fs.promises.readdir(directory).catch((err: unknown) => {
              fail(directory, describeError(err));
              error = 1;
              return [] as string[];
            })
          : [];
        for (const name of names.filter((n) => n.endsWith(".prom")).sort()) {
          const path = join(directory!, name);
          try {
            const [text, stat] = await Promise.all([
              fs.promises.readFile(path, "utf8"),
              fs.promises.stat(path),
            ]);
            const parsed = parseExposition(text, { format: "text" });
            for (const family of parsed) {
              if (family.samples.some((s) => s.timestampMs !== undefined))
                throw new Error(`"${family.name}" has timestamps, which are not supported`);
              const other = families.get(family.name);
              if (other && other.type !== family.type)
                throw new Error(
                  `"${family.name}" is a ${family.type} here and a ${other.type} in another file`,
                );
            }
            for (const family of parsed) {
              const other = families.get(family.name);
              if (other) other.samples.push(...family.samples);
              else
                families.set(family.name, {
                  ...family,
                  help: family.help ?? `Metric read from ${path}`,
                });
            }
            mtimes.add({ file: path }, Math.floor(stat.mtimeMs / 1000));
            reported.delete(path);
          } catch (err) {
            error = 1;
            fail(path, describeError(err));
          }
        }
        const out = [...families.values()];
        if (mtimes.family.samples.length > 0) out.push(mtimes.family);
        out.push(
          single(
            "node_textfile_scrape_error",
            "gauge",
            "1 if there was an error opening or reading a file, 0 otherwise",
            error,
          ),
        );
        return out;
      },
    };
  },
});
