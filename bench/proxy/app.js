// The tiny app behind every proxy in the benchmark: "Hello, World!" (13 bytes) at /, 64 KiB at /64k.
// Plain JavaScript with node:http loaded through require (see src/runtime/builtins.ts), so that it
// also serves as the floor in bench/proxy/memory.ts: the RSS of a bare Node HTTP server.
import { createRequire } from "node:module";

const { createServer } = createRequire(import.meta.url)("node:http");
const small = Buffer.from("Hello, World!");
const large = Buffer.alloc(64 * 1024, "x");
const port = Number(process.argv[2]);
const server = createServer((req, res) => {
  const body = req.url === "/64k" ? large : small;
  res.writeHead(200, { "content-type": "text/plain", "content-length": body.length });
  res.end(body);
});
server.keepAliveTimeout = 65_000;
server.listen(port, "127.0.0.1", () => process.stdout.write("ready\n"));
