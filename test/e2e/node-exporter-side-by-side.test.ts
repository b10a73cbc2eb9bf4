import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import {
  defaultDiskDeviceExclude,
  defaultFsTypesExclude,
  defaultMountPointsExclude,
} from "../../src/metrics/collectors/index.ts";
import type { MetricFamily } from "../../src/runtime/telemetry/exposition/metric-family.ts";
import { parseExposition } from "../../src/runtime/telemetry/exposition/parse-exposition.ts";
import { until } from "../../src/runtime/testing.ts";
import { requireTool } from "../helpers/require-tool.ts";
import { freePort, httpGet, startSidecar, tempDir } from "../helpers/sidecar-process.ts";

/**
 * How far apart two samples of one series may be when node_exporter and `sidecar node` are
 * scraped at the same moment: |a − b| ≤ max(abs, rel·max(|a|, |b|)). Counters move between the
 * two reads (CPU seconds, context switches), gauges drift (free memory, load): the bounds are
 * what two seconds of this machine's activity can move them, and far below what a wrong unit
 * (×512, ×1024, ÷100) or a wrong field would produce.
 */
const MiB = 1024 * 1024;
const tolerances: [RegExp, { abs: number; rel: number }][] = [
  [/^node_scrape_collector_duration_seconds$/, { abs: Number.POSITIVE_INFINITY, rel: 0 }],
  [/^node_time_seconds$/, { abs: 5, rel: 0 }],
  [/^node_cpu_(guest_)?seconds_total$/, { abs: 5, rel: 0.01 }],
  [/^node_pressure_/, { abs: 5, rel: 0.01 }],
  [/^node_load/, { abs: 2, rel: 0.2 }],
  [/^node_procs_(running|blocked)$/, { abs: 20, rel: 0 }],
  [/^node_(context_switches|intr|forks)_total$/, { abs: 200_000, rel: 0.02 }],
  [/^node_memory_.*_bytes$/, { abs: 256 * MiB, rel: 0.05 }],
  [/^node_memory_/, { abs: 1000, rel: 0.05 }],
  [/^node_filesystem_(size|free|avail)_bytes$/, { abs: 256 * MiB, rel: 0.001 }],
  [/^node_filesystem_files_free$/, { abs: 10_000, rel: 0.001 }],
  [/^node_disk_.*bytes_total$/, { abs: 256 * MiB, rel: 0.02 }],
  [/^node_disk_.*seconds_total$/, { abs: 10, rel: 0.02 }],
  [/^node_disk_/, { abs: 20_000, rel: 0.02 }],
  [/^node_network_/, { abs: 64 * MiB, rel: 0.02 }],
  [/^node_vmstat_/, { abs: 500_000, rel: 0.02 }],
];
const exact = { abs: 0, rel: 0 };

function tolerance(family: string) {
  return tolerances.find(([pattern]) => pattern.test(family))?.[1] ?? exact;
}

function seriesKey(name: string, labels: Record<string, string>): string {
  return `${name}{${Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(",")}}`;
}

function index(families: MetricFamily[]): Map<string, MetricFamily> {
  // Each program's own process and runtime metrics are not node metrics.
  const own = /^(go|process|promhttp|nodejs|sidecar)_/;
  return new Map(families.filter((f) => !own.test(f.name)).map((f) => [f.name, f]));
}

/** Every difference between the two outputs for the families both export. */
function compare(theirs: Map<string, MetricFamily>, ours: Map<string, MetricFamily>) {
  const problems: string[] = [];
  const compared: string[] = [];
  for (const [name, reference] of theirs) {
    const own = ours.get(name);
    if (!own) continue;
    compared.push(name);
    if (own.type !== reference.type)
      problems.push(`${name}: type ${own.type}, node_exporter ${reference.type}`);
    if (own.help !== reference.help)
      problems.push(`${name}: help "${own.help}", node_exporter "${reference.help}"`);
    const values = (f: MetricFamily) =>
      new Map(f.samples.map((s) => [seriesKey(s.name, s.labels), s.value]));
    const a = values(reference);
    const b = values(own);
    // The collector families list every collector each program has: compare the shared ones.
    const shared = name.startsWith("node_scrape_collector_");
    for (const [key, value] of a) {
      const mine = b.get(key);
      if (mine === undefined) {
        if (!shared) problems.push(`${key}: missing (node_exporter has ${value})`);
        continue;
      }
      const { abs, rel } = tolerance(name);
      const bound = Math.max(abs, rel * Math.max(Math.abs(value), Math.abs(mine)));
      if (Math.abs(value - mine) > bound)
        problems.push(`${key}: ${mine}, node_exporter ${value} (allowed ±${bound})`);
    }
    if (!shared)
      for (const key of b.keys()) if (!a.has(key)) problems.push(`${key}: not in node_exporter`);
  }
  return { problems, compared };
}

async function scrape(port: number): Promise<Map<string, MetricFamily>> {
  const { status, body } = await httpGet(`http://127.0.0.1:${port}/metrics`);
  assert.equal(status, 200);
  return index(parseExposition(body));
}

test("sidecar node and prometheus-node-exporter export the same families, labels and values", async (t) => {
  const exporter = requireTool("prometheus-node-exporter");
  const { path: dir, cleanup } = await tempDir();
  const textfiles = join(dir, "textfile");
  spawnSync("mkdir", ["-p", textfiles]);
  await writeFile(
    join(textfiles, "backup.prom"),
    '# HELP backup_last_success_seconds When the last backup finished.\n# TYPE backup_last_success_seconds gauge\nbackup_last_success_seconds{job="db"} 1700000000\n',
  );
  const flags = [
    `--collector.filesystem.mount-points-exclude=${defaultMountPointsExclude}`,
    `--collector.filesystem.fs-types-exclude=${defaultFsTypesExclude}`,
    `--collector.diskstats.device-exclude=${defaultDiskDeviceExclude}`,
    // Loopback traffic of the tests themselves moves by gigabytes between two reads.
    "--collector.netdev.device-exclude=^lo$",
    `--collector.textfile.directory=${textfiles}`,
  ];
  const [theirPort, ourPort] = [await freePort(), await freePort()];
  let reference: ChildProcess | undefined;
  const sidecar = startSidecar(["node", "--admin-address", `127.0.0.1:${ourPort}`, ...flags]);
  try {
    reference = spawn(exporter, [`--web.listen-address=127.0.0.1:${theirPort}`, ...flags], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    await sidecar.waitFor('"msg":"sidecar ready to serve"');
    await until(
      async () => (await httpGet(`http://127.0.0.1:${theirPort}/metrics`)).status === 200,
      "node_exporter to answer",
    );
    // Network devices and mounts of other processes on this machine come and go: a difference
    // in which series exist is retried (three times at most), one in values is not.
    let result: ReturnType<typeof compare> | undefined;
    for (let attempt = 1; attempt <= 3; attempt++) {
      const [theirs, ours] = await Promise.all([scrape(theirPort), scrape(ourPort)]);
      result = compare(theirs, ours);
      if (result.problems.every((p) => !/missing|not in node_exporter/.test(p))) break;
    }
    t.diagnostic(`compared ${result!.compared.length} families: ${result!.compared.join(" ")}`);
    assert.deepEqual(result!.problems, []);
    for (const name of [
      "node_cpu_seconds_total",
      "node_boot_time_seconds",
      "node_context_switches_total",
      "node_memory_MemTotal_bytes",
      "node_load1",
      "node_filesystem_avail_bytes",
      "node_disk_read_bytes_total",
      "node_network_receive_bytes_total",
      "node_uname_info",
      "node_time_seconds",
      "node_vmstat_pgfault",
      "node_textfile_scrape_error",
      "node_scrape_collector_success",
      "backup_last_success_seconds",
    ])
      assert.ok(result!.compared.includes(name), `${name} was compared`);
    // promtool: our output parses, and lints with no finding node_exporter's own output lacks
    // (its meminfo names such as node_memory_MemTotal_bytes are not snake_case, and must not be).
    const promtool = requireTool("promtool");
    const lint = async (port: number) => {
      const { body } = await httpGet(`http://127.0.0.1:${port}/metrics`);
      const check = spawnSync(promtool, ["check", "metrics"], { input: body, encoding: "utf8" });
      assert.notEqual(check.status, 1, `promtool could not parse:\n${check.stderr}`);
      return new Set(`${check.stdout}${check.stderr}`.split("\n").filter(Boolean));
    };
    const theirFindings = await lint(theirPort);
    assert.deepEqual(
      [...(await lint(ourPort))].filter((line) => !theirFindings.has(line)),
      [],
    );
  } finally {
    reference?.kill("SIGTERM");
    if (reference && reference.exitCode === null && reference.signalCode === null)
      await once(reference, "exit");
    await sidecar.stop();
    await cleanup();
  }
});
