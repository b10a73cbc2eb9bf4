/**
 * The sync benchmark: a data directory of many small files plus a few large ones, synced by
 * `sidecar sync --once` and by `rclone sync` (Debian's rclone) to (a) a directory and (b) an
 * S3-protocol server on loopback (s3rver), first in full and then after 1 % of the small files
 * changed, in the same run. Prints wall and CPU seconds, peak RSS and the ratio to rclone.
 * The row "1%, running" is the role as it runs in a Pod: a started `sidecar sync` syncing a
 * 1 % change with one pass of the running process (running-role.ts), beside rclone's run of
 * the same change. Every timed run starts after a sync(1), untimed.
 *
 *   npm run bench:sync                                   # 10 000 small files + 3 × 16 MiB
 *   BENCH_SYNC_FILES=2000 BENCH_SYNC_LARGE_MB=8 npm run bench:sync   # shorter
 *   BENCH_SYNC_S3_FILES=0 npm run bench:sync             # directory target only
 *   BENCH_SYNC_RUNNING_ROUNDS=0 npm run bench:sync       # no running-role row (default 5 changes)
 *
 * The sidecar runs as installed (the bundle, built in the same run). Like for like: both copy
 * 4 files at once (rclone's default --transfers 4, --checkers 8; the sidecar's concurrency 4)
 * and both find changes by size and mtime — rclone without --checksum, which would read and hash
 * every file on both sides at every sync, where the sidecar hashes only the files that changed
 * (it must: objects are named by their SHA-256); rclone also hashes each copy to verify it. The
 * sidecar fsyncs every object before its manifest (target.fsync: true, its default); rclone
 * does not fsync local files, so BENCH_SYNC_FSYNC=false shows the sidecar on the same terms.
 * The output says all this too.
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sidecarCommand } from "../sidecar-command.ts";
import { runningPasses } from "./running-role.ts";

const smallFiles = Number(process.env.BENCH_SYNC_FILES ?? 10_000);
const s3Files = Number(process.env.BENCH_SYNC_S3_FILES ?? 2_000);
const largeMiB = Number(process.env.BENCH_SYNC_LARGE_MB ?? 16);
const largeFiles = 3;
const fsync = process.env.BENCH_SYNC_FSYNC !== "false";
const runningRounds = Number(process.env.BENCH_SYNC_RUNNING_ROUNDS ?? 5);
let runningDetail = "";
let startDetail = "";
const { args: sidecarArgs, env: sidecarEnv } = await sidecarCommand("sync");

interface Run {
  seconds: number;
  cpuSeconds: number;
  peakRssMiB: number;
}

/** Runs a command to its end under /usr/bin/time: wall, CPU and peak RSS. */
async function timed(command: string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  await settle();
  const childEnv = { ...process.env, ...env };
  // A CA bundle meant for real AWS makes rclone's S3 client refuse to start against plain HTTP.
  delete childEnv.AWS_CA_BUNDLE;
  const child = spawn("/usr/bin/time", ["-f", "BENCHTIME %e %U %S %M", ...command], {
    stdio: ["ignore", "pipe", "pipe"],
    env: childEnv,
  });
  let stdout = "";
  child.stdout!.on("data", (chunk: Buffer) => {
    stdout = (stdout + chunk).slice(-4000);
  });
  let stderr = "";
  child.stderr!.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk).slice(-8000);
  });
  const [code] = await once(child, "exit");
  const match = /BENCHTIME ([\d.]+) ([\d.]+) ([\d.]+) (\d+)/.exec(stderr);
  if (code !== 0 || !match)
    throw new Error(`${command.join(" ")} failed (${code}):\n${stdout}\n${stderr}`);
  return {
    seconds: Number(match[1]),
    cpuSeconds: Number(match[2]) + Number(match[3]),
    peakRssMiB: Number(match[4]) / 1024,
  };
}

/**
 * Writes back every dirty page (sync(1)) before a timed run, untimed: otherwise the run after
 * the data was made, or after the other tool wrote its copy, pays for that writeback too (a
 * syncfs(2) by the sidecar, the journal's commits for both).
 */
async function settle(): Promise<void> {
  const [code] = await once(spawn("sync", { stdio: "inherit" }), "exit");
  if (code !== 0) throw new Error(`sync(1) failed (${code})`);
}

async function makeData(dir: string, count: number): Promise<void> {
  for (let d = 0; d < Math.ceil(count / 100); d++)
    await mkdir(join(dir, `d${d}`), { recursive: true });
  for (let i = 0; i < count; i += 200) {
    await Promise.all(
      Array.from({ length: Math.min(200, count - i) }, (_, k) => {
        const n = i + k;
        return writeFile(
          join(dir, `d${Math.floor(n / 100)}`, `f${n}.txt`),
          `file ${n} `.repeat(100 + (n % 300)),
        );
      }),
    );
  }
  for (let i = 0; i < largeFiles; i++) {
    const big = Buffer.alloc(largeMiB * 1024 * 1024);
    for (let j = 0; j < big.length; j += 4096) big.writeUInt32LE((j * (i + 7)) >>> 0, j);
    await writeFile(join(dir, `large-${i}.bin`), big);
  }
}

/** Rewrites 1 % of the small files with new content. */
async function change(dir: string, count: number, round: number): Promise<void> {
  for (let n = 0; n < count; n += 100)
    await writeFile(
      join(dir, `d${Math.floor(n / 100)}`, `f${n}.txt`),
      `changed ${round} ${n} `.repeat(120),
    );
}

/** A config for `sidecar sync`; `running`: debug log (each pass's line) and a 0.2 s debounce. */
async function sidecarConfig(
  dir: string,
  data: string,
  target: string,
  running = false,
): Promise<string> {
  const path = join(dir, `sidecar-${Math.random().toString(36).slice(2)}.yaml`);
  const [level, triggers] = running
    ? ["debug", "  debounceSeconds: 0.2\n  intervalSeconds: 0\n"]
    : ["warn", ""];
  await writeFile(
    path,
    `admin: { address: "127.0.0.1:0" }\nlog: { level: ${level} }\nsync:\n  dataDir: ${data}\n  target: ${target}\n  restore: { onStart: false }\n  concurrency: 4\n  retention: { versions: 2 }\n  stateDir: ${join(dir, "state")}\n${triggers}`,
  );
  return path;
}

const rows: string[][] = [];
function report(
  target: string,
  phase: string,
  sidecar: Omit<Run, "seconds"> & { seconds: number },
  rclone: Run,
): void {
  rows.push([
    target,
    phase,
    sidecar.seconds.toFixed(2),
    rclone.seconds.toFixed(2),
    (sidecar.seconds / rclone.seconds).toFixed(2),
    sidecar.cpuSeconds.toFixed(2),
    rclone.cpuSeconds.toFixed(2),
    sidecar.peakRssMiB.toFixed(0),
    rclone.peakRssMiB.toFixed(0),
  ]);
}

const work = await mkdtemp(join(tmpdir(), "sidecar-bench-sync-"));
let s3: import("node:child_process").ChildProcess | undefined;
try {
  // Directory target.
  const data = join(work, "data");
  await makeData(data, smallFiles);
  const sidecarDir = join(work, "sidecar-target");
  const rcloneDir = join(work, "rclone-target");
  const dirConfig = await sidecarConfig(
    work,
    data,
    `{ type: dir, path: ${sidecarDir}, fsync: ${fsync} }`,
  );
  const sidecarSync = (config: string, env?: NodeJS.ProcessEnv) =>
    timed([process.execPath, ...sidecarArgs, "sync", "-c", config, "--once"], {
      ...sidecarEnv,
      ...env,
    });
  const rcloneSync = (to: string, env?: NodeJS.ProcessEnv) =>
    timed(["rclone", "sync", data, to, "--transfers", "4", "--checkers", "8"], env);
  report("dir", "first", await sidecarSync(dirConfig), await rcloneSync(rcloneDir));
  await change(data, smallFiles, 1);
  const rcloneChange = await rcloneSync(rcloneDir);
  report("dir", "1% changed", await sidecarSync(dirConfig), rcloneChange);
  if (runningRounds > 0) {
    const running = await runningPasses(
      [
        process.execPath,
        ...sidecarArgs,
        "sync",
        "-c",
        await sidecarConfig(
          work,
          data,
          `{ type: dir, path: ${sidecarDir}, fsync: ${fsync} }`,
          true,
        ),
      ],
      sidecarEnv,
      runningRounds,
      (round) => change(data, smallFiles, round + 1),
      settle,
    );
    report("dir", "1%, running", running, rcloneChange);
    // What a one-shot process pays before any work: Node's start and the CLI's load.
    const starts: number[] = [];
    for (let i = 0; i < 3; i++)
      starts.push(
        (await timed([process.execPath, ...sidecarArgs, "--version"], sidecarEnv)).seconds,
      );
    startDetail = `one-shot floor: \`sidecar --version\` takes ${Math.min(...starts).toFixed(2)} s (best of 3), before a --once pass does any work\n`;
    runningDetail = `running: a started \`sidecar sync\` (watch, debounce 0.2 s), ${runningRounds} changes of 1 %; median pass ${running.seconds.toFixed(3)} s (each: ${running.passes.map((s) => s.toFixed(3)).join(", ")}) from its start to the version published, beside rclone's 1 % run above; CPU per change, watch included\n`;
  }

  // S3 target (fewer small files: the test server, not the clients, is the slow part).
  if (s3Files > 0) {
    const s3Data = join(work, "s3-data");
    await makeData(s3Data, s3Files);
    await mkdir(join(work, "s3"));
    s3 = spawn(
      process.execPath,
      [
        "--openssl-legacy-provider",
        new URL("s3-server.ts", import.meta.url).pathname,
        join(work, "s3"),
        "bench-sidecar",
        "bench-rclone",
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    const [portLine] = (await once(s3.stdout!, "data")) as [Buffer];
    const port = Number(String(portLine).trim());
    const endpoint = `http://127.0.0.1:${port}`;
    const credentials = {
      AWS_ACCESS_KEY_ID: "S3RVER",
      AWS_SECRET_ACCESS_KEY: "S3RVER",
      AWS_REGION: "us-east-1",
    };
    const s3Config = await sidecarConfig(
      work,
      s3Data,
      `{ type: s3, bucket: bench-sidecar, prefix: app/, endpoint: "${endpoint}", forcePathStyle: true, partSizeMiB: 8 }`,
    );
    const rclone = {
      RCLONE_CONFIG_BENCH_TYPE: "s3",
      RCLONE_CONFIG_BENCH_PROVIDER: "Other",
      RCLONE_CONFIG_BENCH_ACCESS_KEY_ID: "S3RVER",
      RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY: "S3RVER",
      RCLONE_CONFIG_BENCH_ENDPOINT: endpoint,
      RCLONE_CONFIG_BENCH_REGION: "us-east-1",
      RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE: "true",
      RCLONE_CONFIG_BENCH_CHUNK_SIZE: "8M",
    };
    const rcloneS3 = () =>
      timed(
        ["rclone", "sync", s3Data, "bench:bench-rclone/app", "--transfers", "4", "--checkers", "8"],
        rclone,
      );
    report("s3", "first", await sidecarSync(s3Config, credentials), await rcloneS3());
    await change(s3Data, s3Files, 1);
    report("s3", "1% changed", await sidecarSync(s3Config, credentials), await rcloneS3());
  }

  const header = [
    "target",
    "sync",
    "sidecar s",
    "rclone s",
    "ratio",
    "sidecar CPU s",
    "rclone CPU s",
    "sidecar RSS MiB",
    "rclone RSS MiB",
  ];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ");
  process.stdout.write(
    `bench:sync — ${smallFiles} small files (S3: ${s3Files}) + ${largeFiles} × ${largeMiB} MiB; sidecar fsync ${fsync}\n${line(header)}\n${rows.map(line).join("\n")}\nratio = sidecar wall time / rclone wall time (target ≤ 1.0); RSS = peak resident set size\n` +
      "rclone: sync --transfers 4 --checkers 8, changes by size and mtime (no --checksum: the sidecar also hashes only what changed), each copy verified by hash, no fsync\n" +
      `sidecar: sync --once, concurrency 4, ${Object.entries(sidecarEnv)
        .map(([name, value]) => `${name}=${value} `)
        .join(
          "",
        )}SHA-256 of every changed file, ${fsync ? "fsync of every object, its directory and the manifest (BENCH_SYNC_FSYNC=false: none, as rclone)" : "no fsync (as rclone)"}\n${runningDetail}${startDetail}` +
      "every timed run starts after a sync(1), untimed\n",
  );
} finally {
  if (s3) {
    s3.kill("SIGTERM");
    await once(s3, "exit");
  }
  await rm(work, { recursive: true, force: true });
}
