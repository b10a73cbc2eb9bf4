// A bare Node proxy with both sides on node:net, for the benchmark only: request and response
// heads found and read by hand (no llhttp, no IncomingMessage or ServerResponse), keep-alive
// both ways, the forwarding headers nginx and the sidecar set. Bodyless requests and
// Content-Length responses only (the bench's), no validation, routing, timeouts or anything
// else: what a request side on node:net could cost at best, between node:http's floor
// (bench/proxy/node-proxy.js) and Node's own (bench/proxy/net-pipe.js).
import { createServer } from "node:net";
import { upstreamHead, upstreamPool } from "./raw-upstream.js";

const [port, upstreamPort] = process.argv.slice(2).map(Number);
const upstreams = upstreamPool(upstreamPort);

/** Forwards one request head to an upstream connection and its response back to `client`. */
function forward(client, head, done) {
  const lineEnd = head.indexOf("\r\n");
  const [method, target] = head.slice(0, lineEnd).split(" ");
  const host = /\r\nhost: *([^\r]*)/i.exec(head)?.[1] ?? "";
  const c = upstreams.take();
  let pending = null;
  let left = -1;
  c.onData = (chunk) => {
    if (left === -1) {
      pending = pending ? Buffer.concat([pending, chunk]) : chunk;
      const end = pending.indexOf("\r\n\r\n");
      if (end === -1) return;
      left = Number(/\r\ncontent-length: *(\d+)/i.exec(pending.latin1Slice(0, end))[1]);
      left -= pending.length - end - 4;
      chunk = pending;
    } else left -= chunk.length;
    client.write(chunk);
    if (left <= 0) {
      upstreams.release(c);
      done();
    }
  };
  c.socket.write(upstreamHead(method, target, host, client.remoteAddress), "latin1");
}

const server = createServer({ noDelay: true }, (client) => {
  let buffered = "";
  let busy = false;
  const next = () => {
    busy = false;
    const end = buffered.indexOf("\r\n\r\n");
    if (end === -1) return;
    const head = buffered.slice(0, end);
    buffered = buffered.slice(end + 4);
    busy = true;
    forward(client, head, next);
  };
  client.setEncoding("latin1");
  client.on("data", (chunk) => {
    buffered += chunk;
    if (!busy) next();
  });
  client.on("error", () => client.destroy());
});
server.listen(port, "127.0.0.1", () => process.stdout.write("ready\n"));
