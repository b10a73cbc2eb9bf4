// A bare Node proxy, for the benchmark only: node:http in front, raw keep-alive upstream
// connections, the forwarding headers nginx and the sidecar set, Content-Length responses only
// (the bench app's), no routing, filters, timeouts, retries, metrics or validation. Whatever the
// sidecar costs beyond it is its own; what this costs is Node's (node:http and the event loop).
import { createRequire } from "node:module";
import { upstreamHead, upstreamPool } from "./raw-upstream.js";

const { createServer } = createRequire(import.meta.url)("node:http");
const [port, upstreamPort] = process.argv.slice(2).map(Number);
const upstreams = upstreamPool(upstreamPort);

const server = createServer((req, res) => {
  const c = upstreams.take();
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
      upstreams.release(c);
    }
  };
  const host = req.headers.host ?? "";
  c.socket.write(upstreamHead(req.method, req.url, host, req.socket.remoteAddress), "latin1");
});
server.keepAliveTimeout = 65_000;
server.listen(port, "127.0.0.1", () => process.stdout.write("ready\n"));
