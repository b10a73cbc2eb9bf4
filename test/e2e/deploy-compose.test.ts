/**
 * deploy/compose/compose.yaml run with podman: each service becomes the `podman run` Compose
 * would make of it (user, read-only root, dropped capabilities, env, volumes, ports on
 * 127.0.0.1, and `network_mode: service:app` as `--network container:…`). Debian's
 * podman-compose (1.0.3) cannot do `network_mode: service:…`, so the test does that
 * translation itself; the file's syntax is checked against the Compose spec in
 * test/deploy-manifests.test.ts. Needs podman and runc (bash scripts/install-system-deps.sh).
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { after, before, test } from "node:test";
import { parse } from "yaml";
import { freePort, until } from "../../src/runtime/testing.ts";
import { buildTestImages, podman } from "../helpers/podman.ts";

const composeFile = "deploy/compose/compose.yaml";
const project = `sidecar-compose-${process.pid}`;
const started: string[] = [];
const volumes = new Set<string>();

// biome-ignore lint/suspicious/noExplicitAny: a Compose service as YAML parses it.
type Service = Record<string, any>;

/** `podman run` arguments for a service, as Compose would run it, with the ports given. */
function runArgs(name: string, service: Service, ports: Map<string, number>): string[] {
  const args = ["run", "-d", "--name", `${project}-${name}`];
  if (service.user) args.push("--user", service.user);
  if (service.read_only) args.push("--read-only");
  for (const cap of service.cap_drop ?? []) args.push("--cap-drop", cap);
  for (const opt of service.security_opt ?? []) args.push("--security-opt", opt);
  for (const [key, value] of Object.entries(service.environment ?? {}))
    args.push("--env", `${key}=${String(value).replace(/\$\{HOSTNAME:-([^}]*)\}/, "$1")}`);
  for (const spec of service.volumes ?? []) {
    const [source, ...rest] = (spec as string).split(":");
    const named = !source!.startsWith(".") && !source!.startsWith("/");
    if (named) volumes.add(`${project}-${source}`);
    const host = named ? `${project}-${source}` : resolve(dirname(composeFile), source!);
    args.push("--volume", [host, ...rest].join(":"));
  }
  for (const spec of service.ports ?? []) {
    const [ip, hostPort, containerPort] = (spec as string).split(":");
    args.push("--publish", `${ip}:${ports.get(hostPort!) ?? hostPort}:${containerPort}`);
  }
  const mode = /^service:(.+)$/.exec(service.network_mode ?? "")?.[1];
  if (mode) args.push("--network", `container:${project}-${mode}`);
  if (service.stop_grace_period)
    args.push("--stop-timeout", String(Number.parseInt(service.stop_grace_period, 10)));
  args.push(service.image, ...(service.command ?? []));
  return args;
}

let proxyPort = 0;
let adminPort = 0;

before(async () => {
  await buildTestImages();
  const compose = parse(await readFile(composeFile, "utf8")) as {
    services: Record<string, Service>;
  };
  [proxyPort, adminPort] = [await freePort(), await freePort()];
  // The file's fixed host ports, moved to free ones so parallel runs do not collide.
  const ports = new Map([
    ["8081", proxyPort],
    ["9901", adminPort],
  ]);
  for (const name of ["app", "sidecar"]) {
    await podman(runArgs(name, compose.services[name]!, ports));
    started.push(`${project}-${name}`);
  }
});

after(async () => {
  for (const name of started.reverse())
    await podman(["rm", "--force", "--time", "0", name]).catch(() => {});
  for (const volume of volumes) await podman(["volume", "rm", "--force", volume]).catch(() => {});
});

test("compose: the sidecar proxies to the app in its network namespace and ships the app's log file; SIGTERM ends it with 0", async () => {
  const readyz = `http://127.0.0.1:${adminPort}/readyz`;
  await until(
    async () =>
      (await fetch(readyz, { signal: AbortSignal.timeout(2000) }).catch(() => undefined))?.ok ===
      true,
    "the sidecar's /readyz",
  ).catch(async (error: Error) => {
    const logs = await podman(["logs", `${project}-sidecar`]).catch((e: Error) => ({
      stdout: "",
      stderr: e.message,
    }));
    throw new Error(`${error.message}\n${logs.stdout}${logs.stderr}`);
  });
  const res = await fetch(`http://127.0.0.1:${proxyPort}/from-compose`, {
    signal: AbortSignal.timeout(5000),
  });
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as { path: string }).path, "/from-compose");

  // The stdout sink: the app's line, parsed and enriched, in the sidecar's output.
  const shipped = async () => {
    const { stdout } = await podman(["logs", `${project}-sidecar`]);
    return stdout
      .split("\n")
      .some((line) => line.includes('"/from-compose"') && line.includes('"namespace":"compose"'));
  };
  await until(shipped, "the app's log line shipped by the sidecar");

  await podman(["stop", `${project}-sidecar`]);
  const { stdout } = await podman([
    "inspect",
    "--format",
    "{{.State.ExitCode}}",
    `${project}-sidecar`,
  ]);
  assert.equal(stdout.trim(), "0");
});
