// What the bench's featureless proxies (node-proxy.js, net-proxy.js) share: raw keep-alive
// connections to the app, and the request head they send it, with the forwarding headers nginx
// and the sidecar set.
import { randomUUID } from "node:crypto";
import { connect } from "node:net";

/** Idle upstream connections to 127.0.0.1:`port`; each calls its `onData` with what it reads. */
export function upstreamPool(port) {
  const idle = [];
  return {
    take() {
      const reused = idle.pop();
      if (reused) return reused;
      const c = { socket: connect({ host: "127.0.0.1", port, noDelay: true }) };
      c.socket.on("data", (chunk) => c.onData(chunk));
      c.socket.on("error", () => {});
      return c;
    },
    release(c) {
      idle.push(c);
    },
  };
}

/**
 * Reads one Content-Length response from upstream connection `c`: `onPart(bytes, last, head)`
 * for each part of it, the first carrying the head as well (`head`: its text, its length in
 * `bytes` and the body's); then `c` goes back to `pool`.
 */
export function readResponse(pool, c, onPart) {
  let pending = null;
  let left = -1;
  c.onData = (chunk) => {
    let head;
    if (left === -1) {
      pending = pending ? Buffer.concat([pending, chunk]) : chunk;
      const end = pending.indexOf("\r\n\r\n");
      if (end === -1) return;
      const text = pending.latin1Slice(0, end);
      left = Number(/\r\ncontent-length: *(\d+)/i.exec(text)[1]);
      head = { text, bytes: end + 4, bodyLength: left };
      left -= pending.length - end - 4;
      chunk = pending;
    } else left -= chunk.length;
    if (left <= 0) pool.release(c);
    onPart(chunk, left <= 0, head);
  };
}

/** The head of a bodyless request to the app, with the forwarding headers and a request id. */
export function upstreamHead(method, target, host, peer) {
  return `${method} ${target} HTTP/1.1\r\nhost: ${host}\r\nx-forwarded-for: ${peer}\r\nx-forwarded-proto: http\r\nx-forwarded-host: ${host}\r\nx-request-id: ${randomUUID()}\r\n\r\n`;
}
