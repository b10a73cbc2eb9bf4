// A bare Node proxy, for the benchmark only: node:http in front, raw keep-alive upstream
// connections, the forwarding headers nginx and the sidecar set, Content-Length responses only
// (the bench app's), no routing, filters, timeouts, retries, metrics or validation. Whatever the
// sidecar costs beyond it is its own; what this costs is Node's (node:http and the event loop).
import { randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import { connect } from "node:net";

const { createServer } = createRequire(import.meta.url)("node:http");
const [port, upstreamPort] = process.argv.slice(2).map(Number);
const idle = [];

function connection() {
  const reused = idle.pop();
  if (reused) return reused;
  const c = { socket: connect({ host: "127.0.0.1", port: upstreamPort, noDelay: true }) };
  c.socket.on("data", (chunk) => c.onData(chunk));
  return c;
}

const server = createServer((req, res) => {
  const c = connection();
  let pending = null;
  let left = -1;
  c.onData = (chunk) => {
    if (left === -1) {
      pending = pending ? Buffer.concat([pending, chunk]) : chunk;
      const end = pending.indexOf("\r\n\r\n");
      if (end === -1) return;
      const head = pending.toString("latin1", 0, end);
      left = Number(/\r\ncontent-length: *(\d+)/i.exec(head)[1]);
      const type = /\r\ncontent-type: *([^\r]*)/i.exec(head)?.[1] ?? "application/octet-stream";
      res.writeHead(Number(head.slice(9, 12)), {
        "content-type": type,
        "content-length": left,
      });
      chunk = pending.subarray(end + 4);
    }
    left -= chunk.length;
    if (left > 0) res.write(chunk);
    else {
      res.end(chunk);
      idle.push(c);
    }
  };
  const host = req.headers.host ?? "";
  c.socket.write(
    `${req.method} ${req.url} HTTP/1.1\r\nhost: ${host}\r\nx-forwarded-for: ${req.socket.remoteAddress}\r\nx-forwarded-proto: http\r\nx-forwarded-host: ${host}\r\nx-request-id: ${randomUUID()}\r\n\r\n`,
    "latin1",
  );
});
server.keepAliveTimeout = 65_000;
server.listen(port, "127.0.0.1", () => process.stdout.write("ready\n"));
