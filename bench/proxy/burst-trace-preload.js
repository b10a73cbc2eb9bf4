// Preloaded (`node --import`) into a proxy process by bench/proxy/burst-trace.ts, for the
// benchmark only: time-stamps every socket read and write of the process and every V8 collection,
// into preallocated arrays (no allocation per event), so that where a burst's requests wait shows.
// SIGWINCH starts a new recording; SIGUSR2 writes it to BURST_TRACE_OUT, one event per line:
// "<ms> <kind> <socket or pause µs>", kinds R/W (client side read/write), r/w (upstream side),
// G (a collection: its duration in µs and V8's kind, 1 = scavenge).
import { renameSync, writeFileSync } from "node:fs";
import { syncBuiltinESMExports } from "node:module";
import net from "node:net";
import { PerformanceObserver, performance } from "node:perf_hooks";

const capacity = 2_000_000;
const times = new Float64Array(capacity);
const kinds = new Uint8Array(capacity);
const sockets = new Uint32Array(capacity);
let count = 0;
const collections = [];
const socketIds = new WeakMap();
let nextSocketId = 1;

/** Accepted sockets are the client side; the process's own connections the upstream side. */
function record(kind, socket) {
  if (count === capacity) return;
  let id = socketIds.get(socket);
  if (id === undefined) {
    id = nextSocketId++;
    socketIds.set(socket, id);
  }
  times[count] = performance.now();
  kinds[count] = kind + (socket.server ? 0 : 1);
  sockets[count] = id;
  count++;
}

const emit = net.Socket.prototype.emit;
net.Socket.prototype.emit = function (event, ...args) {
  if (event === "data") record(0, this);
  return emit.call(this, event, ...args);
};
const writeGeneric = net.Socket.prototype._writeGeneric;
net.Socket.prototype._writeGeneric = function (...args) {
  record(2, this);
  return writeGeneric.apply(this, args);
};
// Reads into a caller's buffer (`onread`, the raw upstream pool) bypass the data event.
const connect = net.connect;
net.connect = net.createConnection = function (options, ...rest) {
  if (typeof options?.onread?.callback !== "function") return connect.call(this, options, ...rest);
  const callback = options.onread.callback;
  let socket;
  socket = connect.call(
    this,
    {
      ...options,
      onread: {
        ...options.onread,
        callback(bytes, buffer) {
          record(0, socket);
          return callback(bytes, buffer);
        },
      },
    },
    ...rest,
  );
  return socket;
};
syncBuiltinESMExports();

new PerformanceObserver((list) => {
  for (const entry of list.getEntries())
    collections.push([entry.startTime, entry.duration, entry.detail?.kind ?? 0]);
}).observe({ entryTypes: ["gc"] });

process.on("SIGWINCH", () => {
  count = 0;
  collections.length = 0;
});
process.on("SIGUSR2", () => {
  const lines = [];
  for (let i = 0; i < count; i++)
    lines.push(`${times[i].toFixed(3)} ${"RrWw"[kinds[i]]} ${sockets[i]}`);
  for (const [start, duration, kind] of collections)
    lines.push(`${start.toFixed(3)} G ${Math.round(duration * 1000)} ${kind}`);
  lines.sort((a, b) => Number.parseFloat(a) - Number.parseFloat(b));
  // Whole or not at all: the bench reads the file as soon as it exists.
  writeFileSync(`${process.env.BURST_TRACE_OUT}.part`, `${lines.join("\n")}\n`);
  renameSync(`${process.env.BURST_TRACE_OUT}.part`, process.env.BURST_TRACE_OUT);
});
