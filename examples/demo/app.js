// The demo app: a tiny HTTP service that writes a log file and reads a config file if present.
// It knows nothing of the sidecar; the sidecar probes it, and later proxies, tails and configures it.
import { appendFileSync, mkdirSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { dirname } from "node:path";

const port = Number(process.env.PORT ?? 8080);
// Loopback only by default: in a Pod the sidecar's proxy is the way in.
const host = process.env.DEMO_HOST ?? "127.0.0.1";
const logFile = process.env.DEMO_LOG_FILE ?? ".tmp/demo/logs/app.log";
const configFile = process.env.DEMO_CONFIG_FILE ?? ".tmp/demo/config/app.json";

mkdirSync(dirname(logFile), { recursive: true });
const log = (level, msg, fields = {}) =>
  appendFileSync(
    logFile,
    `${JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields })}\n`,
  );

function readConfig() {
  try {
    return JSON.parse(readFileSync(configFile, "utf8"));
  } catch {
    return { greeting: "hello" };
  }
}

let requests = 0;
const server = createServer((req, res) => {
  requests++;
  if (req.url === "/healthz") {
    res.writeHead(200, { "content-type": "text/plain" });
    return res.end("ok\n");
  }
  if (req.url === "/metrics") {
    res.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
    return res.end(
      `# HELP demo_requests_total Requests served by the demo app.\n# TYPE demo_requests_total counter\ndemo_requests_total ${requests}\n`,
    );
  }
  const { greeting } = readConfig();
  log("info", "request", { method: req.method, path: req.url });
  res.writeHead(200, { "content-type": "application/json" });
  const body = {
    message: `${greeting} from the demo app`,
    path: req.url,
    // Set by the sidecar's proxy when the request came through it.
    requestId: req.headers["x-request-id"],
    forwardedFor: req.headers["x-forwarded-for"],
  };
  res.end(`${JSON.stringify(body)}\n`);
});

server.listen(port, host, () => {
  log("info", "listening", { host, port });
  console.log(`demo app listening on http://${host}:${port}`);
});

process.on("SIGTERM", () => {
  log("info", "stopping");
  console.log("demo app: SIGTERM received, closing");
  server.close(() => process.exit(0));
  server.closeIdleConnections();
});
