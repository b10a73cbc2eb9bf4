/** What the proxy benchmarks share: free ports, child processes, wrk runs, /proc readings. */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "../../src/runtime/testing.ts";

export const run = promisify(execFile);
export const root = new URL("../../", import.meta.url).pathname;
export const children: ChildProcess[] = [];
export function start(
  command: string,
  args: string[],
  readyPattern: RegExp | undefined,
  /** Ready once `GET http://127.0.0.1:PORT/` answers 2xx, or this URL when given as a string. */
  port: number | string,
  /** Added to this process's environment (the sidecar command's, see bench/sidecar-command.ts). */
  env: Record<string, string> = {},
) {
  const child = spawn(command, args, {
    stdio: ["ignore", "pipe", "pipe"],
    cwd: root,
    env: { ...process.env, ...env },
  });
  children.push(child);
  let output = "";
  child.stdout!.on("data", (c) => {
    output += c;
  });
  child.stderr!.on("data", (c) => {
    output += c;
  });
  return new Promise<ChildProcess>((resolve, reject) => {
    const deadline = Date.now() + 20_000;
    const check = async () => {
      if (child.exitCode !== null) return reject(new Error(`${command} exited: ${output}`));
      if (readyPattern && !readyPattern.test(output)) {
        if (Date.now() > deadline) return reject(new Error(`${command} not ready: ${output}`));
        return void setTimeout(check, 100);
      }
      try {
        const url = typeof port === "string" ? port : `http://127.0.0.1:${port}/`;
        const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
        await res.arrayBuffer();
        if (!res.ok) throw new Error(`${url}: ${res.status}`);
        resolve(child);
      } catch {
        if (Date.now() > deadline) return reject(new Error(`${command} not answering: ${output}`));
        setTimeout(check, 100);
      }
    };
    void check();
  });
}

export interface Result {
  rps: number;
  p50: string;
  p99: string;
  /** CPU time (user + system) the target process spent per request, in microseconds. */
  cpuUs: number;
}

/** utime + stime of a process, in clock ticks (100 per second on Linux). */
export async function cpuTicks(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(fields[11]) + Number(fields[12]);
}

/** The nginx worker (the master's only child) does the proxying. */
export async function nginxWorker(masterPid: number): Promise<number> {
  const children = await readFile(`/proc/${masterPid}/task/${masterPid}/children`, "utf8");
  return Number(children.trim().split(" ")[0]);
}

function toMs(text: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(text);
  if (!m) return Number.NaN;
  const v = Number(m[1]);
  return m[2] === "us" ? v / 1000 : m[2] === "s" ? v * 1000 : v;
}

export async function wrk(
  url: string,
  pid: number,
  conns: number,
  duration: number,
  headers: readonly string[] = [],
): Promise<Result> {
  const before = await cpuTicks(pid);
  const { stdout } = await run(
    "wrk",
    [
      "-t1",
      `-c${conns}`,
      `-d${duration}s`,
      "--latency",
      "--timeout",
      "5s",
      ...headers.flatMap((h) => ["-H", h]),
      url,
    ],
    { timeout: (duration + 30) * 1000 },
  );
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1] ?? Number.NaN);
  const p50 = /^\s+50%\s+(\S+)/m.exec(stdout)?.[1] ?? "?";
  const p99 = /^\s+99%\s+(\S+)/m.exec(stdout)?.[1] ?? "?";
  const requests = Number(/(\d+) requests in/.exec(stdout)?.[1] ?? Number.NaN);
  const cpuUs = (((await cpuTicks(pid)) - before) * 10_000) / requests;
  return { rps, p50: `${toMs(p50).toFixed(2)}ms`, p99: `${toMs(p99).toFixed(2)}ms`, cpuUs };
}

export interface FixedRateResult {
  rps: number;
  /** Latency percentiles in milliseconds. */
  p50: number;
  p99: number;
  /** Requests that failed or got a status other than 200. */
  errors: number;
}

/**
 * A fixed request rate with `hey` (Debian's package): `connections` workers, each sending
 * `perWorker` requests per second, for `duration` seconds. Latency under a rate the target can
 * sustain is what an app behind the proxy sees, unlike wrk's closed loop at full speed.
 */
export async function hey(
  url: string,
  connections: number,
  perWorker: number,
  duration: number,
): Promise<FixedRateResult> {
  const { stdout } = await run(
    "hey",
    ["-z", `${duration}s`, "-c", String(connections), "-q", String(perWorker), url],
    { timeout: (duration + 30) * 1000 },
  );
  const percentile = (p: number) =>
    Number(new RegExp(`^\\s+${p}% in ([\\d.]+) secs`, "m").exec(stdout)?.[1] ?? Number.NaN) * 1000;
  const ok = Number(/\[200\]\s+(\d+) responses/.exec(stdout)?.[1] ?? 0);
  const total = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1] ?? Number.NaN);
  const seconds = Number(/Total:\s+([\d.]+) secs/.exec(stdout)?.[1] ?? Number.NaN);
  return {
    rps: total,
    p50: percentile(50),
    p99: percentile(99),
    errors: Math.max(0, Math.round(total * seconds) - ok),
  };
}

export async function peakRssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

export async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024;
}

/**
 * Starts the bench app, `sidecar proxy` in front of it (access log off) and nginx (1 worker,
 * keepalive upstream, access log off) in front of it, with their config files in `dir`. Like for
 * like: nginx sets the headers the sidecar sets (X-Forwarded-For/-Proto/-Host, X-Request-Id;
 * the sidecar's W3C traceparent has no nginx counterpart).
 */
/**
 * `sidecar proxy` in front of the app (access log off), as installed: ready when its admin
 * server says so, so no request goes through the proxy before the benchmarks' own
 * (bench/proxy/memory.ts reads its RSS before any traffic). `name` names its config file.
 */
export async function startSidecarProxy(
  dir: string,
  sidecarArgs: readonly string[],
  appPort: number,
  sidecarEnv: Record<string, string> = {},
  name = "sidecar",
) {
  const [sidecarPort, adminPort] = [await freePort(), await freePort()];
  const config = join(dir, `${name}.yaml`);
  await writeFile(
    config,
    `admin:\n  address: 127.0.0.1:${adminPort}\nlog:\n  level: warn\nproxy:\n  listeners:\n    - address: 127.0.0.1:${sidecarPort}\n      routes: [{ cluster: app }]\n  clusters:\n    app: { endpoints: ["127.0.0.1:${appPort}"] }\n  accessLog: { enabled: false }\n`,
  );
  const sidecar = await start(
    process.execPath,
    [...sidecarArgs, "proxy", "-c", config],
    undefined,
    `http://127.0.0.1:${adminPort}/readyz`,
    sidecarEnv,
  );
  return { sidecar, sidecarPort };
}

export async function startAppSidecarNginx(
  dir: string,
  sidecarArgs: readonly string[],
  {
    nginxKeepaliveTimeout = "75s",
    sidecarEnv = {},
  }: { nginxKeepaliveTimeout?: string; sidecarEnv?: Record<string, string> } = {},
) {
  const [appPort, nginxPort] = [await freePort(), await freePort()];
  const app = await start(
    process.execPath,
    ["bench/proxy/app.js", String(appPort)],
    /ready/,
    appPort,
  );
  const { sidecar, sidecarPort } = await startSidecarProxy(dir, sidecarArgs, appPort, sidecarEnv);
  await writeFile(
    join(dir, "nginx.conf"),
    `worker_processes 1;\ndaemon off;\npid ${dir}/nginx.pid;\nerror_log ${dir}/nginx-error.log warn;\nevents { worker_connections 4096; }\nhttp {\n  access_log off;\n  keepalive_timeout ${nginxKeepaliveTimeout};\n  client_body_temp_path ${dir}; proxy_temp_path ${dir};\n  fastcgi_temp_path ${dir}; uwsgi_temp_path ${dir}; scgi_temp_path ${dir};\n  upstream app { server 127.0.0.1:${appPort}; keepalive 64; }\n  server {\n    listen 127.0.0.1:${nginxPort};\n    location / {\n      proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection "";\n      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n      proxy_set_header X-Forwarded-Proto $scheme;\n      proxy_set_header X-Forwarded-Host $host;\n      proxy_set_header X-Request-Id $request_id;\n    }\n  }\n}\n`,
  );
  const nginx = await start(
    "nginx",
    ["-p", dir, "-c", join(dir, "nginx.conf"), "-e", join(dir, "nginx-error.log")],
    undefined,
    nginxPort,
  );
  return { app, appPort, sidecar, sidecarPort, nginx, nginxPort };
}
