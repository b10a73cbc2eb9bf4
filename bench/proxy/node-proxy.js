// A bare Node proxy, for the benchmark only: node:http in front, raw keep-alive upstream
// connections, the forwarding headers nginx and the sidecar set, Content-Length responses only
// (the bench app's), no routing, filters, timeouts, retries, metrics or validation. Whatever the
// sidecar costs beyond it is its own; what this costs is Node's (node:http and the event loop).
import { createRequire } from "node:module";
import { readResponse, upstreamHead, upstreamPool } from "./raw-upstream.js";

const { createServer } = createRequire(import.meta.url)("node:http");
const [port, upstreamPort] = process.argv.slice(2).map(Number);
const upstreams = upstreamPool(upstreamPort);

const server = createServer((req, res) => {
  const c = upstreams.take();
  readResponse(upstreams, c, (bytes, last, head) => {
    let body = bytes;
    if (head) {
      const type =
        /\r\ncontent-type: *([^\r]*)/i.exec(head.text)?.[1] ?? "application/octet-stream";
      res.writeHead(Number(head.text.slice(9, 12)), {
        "content-type": type,
        "content-length": head.bodyLength,
      });
      body = bytes.subarray(head.bytes);
    }
    if (last) res.end(body);
    else res.write(body);
  });
  const host = req.headers.host ?? "";
  c.socket.write(upstreamHead(req.method, req.url, host, req.socket.remoteAddress), "latin1");
});
server.keepAliveTimeout = 65_000;
server.listen(port, "127.0.0.1", () => process.stdout.write("ready\n"));
