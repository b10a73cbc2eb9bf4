// A bare Node proxy with both sides on node:net, for the benchmark only: requests read by the
// sidecar's own RequestParser (src/proxy/transport/request-parser.ts, differentially tested
// against llhttp), response heads read by hand, no IncomingMessage or ServerResponse,
// keep-alive both ways, the forwarding headers nginx and the sidecar set. Bodyless requests and
// Content-Length responses only (the bench's), no routing, timeouts or anything else: what a
// request side on node:net could cost at best, between node:http's floor
// (bench/proxy/node-proxy.js) and Node's own (bench/proxy/net-pipe.js).
import { createServer } from "node:net";
import { RequestParser } from "../../src/proxy/transport/request-parser.ts";
import { readResponse, upstreamHead, upstreamPool } from "./raw-upstream.js";

const [port, upstreamPort] = process.argv.slice(2).map(Number);
const upstreams = upstreamPool(upstreamPort);

/** Forwards one request to an upstream connection and its response back to `client`. */
function forward(client, { method, target, rawHeaders }, done) {
  let host = "";
  for (let i = 0; i < rawHeaders.length; i += 2)
    if (rawHeaders[i].length === 4 && rawHeaders[i].toLowerCase() === "host")
      host = rawHeaders[i + 1];
  const c = upstreams.take();
  readResponse(upstreams, c, (bytes, last) => {
    client.write(bytes);
    if (last) done();
  });
  c.socket.write(upstreamHead(method, target, host, client.remoteAddress), "latin1");
}

const server = createServer({ noDelay: true }, (client) => {
  const parser = new RequestParser({
    onHead: (head) => forward(client, head, () => parser.resume()),
    onBody() {},
    onEnd() {},
    onUpgrade: () => client.destroy(),
    onError: (_code, status) =>
      client.end(
        `HTTP/1.1 ${status} Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n`,
      ),
  });
  client.on("data", (chunk) => parser.feed(chunk));
  client.on("error", () => client.destroy());
});
server.listen(port, "127.0.0.1", () => process.stdout.write("ready\n"));
