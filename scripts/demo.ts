// `npm start`: the demo app wrapped by sidecar, with what to try printed once it is ready.
// Ports come from PORT (the app, default 8080), PROXY_LISTEN (default 127.0.0.1:8081) and
// SIDECAR_ADMIN_ADDRESS (default 127.0.0.1:9901).
import { spawn } from "node:child_process";
import { mkdirSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

const appPort = process.env.PORT ?? "8080";
const adminAddress = process.env.SIDECAR_ADMIN_ADDRESS ?? "127.0.0.1:9901";
const proxyAddress = process.env.PROXY_LISTEN ?? "127.0.0.1:8081";
const logDir = process.env.DEMO_LOG_DIR ?? ".tmp/demo/logs";
const shipped = process.env.DEMO_SHIPPED_FILE ?? ".tmp/demo/shipped.jsonl";
const admin = `http://${adminAddress}`;
const entry = new URL("../src/cli/entry.ts", import.meta.url).pathname;

// The app writes its log here; creating it first lets the logs role watch it from the start.
mkdirSync(logDir, { recursive: true });

const sidecar = spawn(
  process.execPath,
  [
    entry,
    "run",
    "-c",
    "examples/demo/sidecar.yaml",
    "--",
    process.execPath,
    "examples/demo/app.js",
  ],
  {
    stdio: "inherit",
    env: {
      ...process.env,
      PORT: appPort,
      SIDECAR_ADMIN_ADDRESS: adminAddress,
      PROXY_LISTEN: proxyAddress,
      DEMO_LOG_DIR: logDir,
      DEMO_LOG_FILE: `${logDir}/app.log`,
      DEMO_SHIPPED_FILE: shipped,
    },
  },
);
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => sidecar.kill(signal));
sidecar.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));

for (let i = 0; i < 300 && sidecar.exitCode === null; i++) {
  const ready = await fetch(`${admin}/readyz`).then(
    (r) => r.ok,
    () => false,
  );
  if (ready) {
    console.log(`
  sidecar demo is up. Try:

    curl -i http://${proxyAddress}/hello      # the app, through the sidecar's proxy (it sees a request id)
    curl http://127.0.0.1:${appPort}/            # the app, directly
    curl ${admin}/readyz                # readiness of the app and every role
    curl ${admin}/status                # version, uptime, config hash, roles
    curl ${admin}/metrics               # Prometheus metrics (sidecar_app_up, …)
    tail -f ${shipped}   # the app's log lines, parsed and shipped by the logs role
    curl -X POST ${admin}/quitquitquit  # graceful exit (or press Ctrl-C)
`);
    break;
  }
  await sleep(100);
}
