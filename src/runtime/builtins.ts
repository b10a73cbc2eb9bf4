import { createRequire } from "node:module";

/**
 * Node's built-in modules whose ESM import costs memory: importing a built-in as ESM reads
 * every one of its exports, so the lazy ones load. `import … from "node:http"` thus loads
 * undici (for `http.WebSocket`), http2, tls and worker_threads; `node:fs` loads readline and
 * streams; `node:util` loads worker_threads. Loaded through `require` they stay lazy: 12 MB less
 * RSS for the proxy (`npm run bench:proxy:memory`). Import types from `node:*` as usual.
 */
const require = createRequire(import.meta.url);

export const http: typeof import("node:http") = require("node:http");
/**
 * node:https and node:tls load OpenSSL's TLS layer (4 MB RSS, measured on a bare node:http
 * server): loaded on first use, so a sidecar without TLS in its config never pays for it.
 */
export const https = loadedOnFirstUse<typeof import("node:https")>("node:https");
export const tls = loadedOnFirstUse<typeof import("node:tls")>("node:tls");
/**
 * node:crypto: loaded on first use (a request id, a config hash shown in /status, a TLS
 * certificate check). Loading it costs 2 MB of RSS on a bare node:http server, which an idle
 * proxy paid at start for its request-id pool and its config hash.
 */
export const crypto = loadedOnFirstUse<typeof import("node:crypto")>("node:crypto");
/** node:zlib for gzip-compressed sink requests: loaded on first use, 0.5 MB a proxy never needs. */
export const zlib = loadedOnFirstUse<typeof import("node:zlib")>("node:zlib");
export const fs: typeof import("node:fs") = require("node:fs");
export const util: typeof import("node:util") = require("node:util");
export const net: typeof import("node:net") = require("node:net");

/** A built-in module that `require`s itself on its first property read. */
function loadedOnFirstUse<T extends object>(name: string): T {
  let loaded: T | undefined;
  const load = (): T => {
    loaded ??= require(name) as T;
    return loaded;
  };
  return new Proxy({} as T, {
    get: (_, key) => Reflect.get(load(), key),
    has: (_, key) => Reflect.has(load(), key),
    ownKeys: () => Reflect.ownKeys(load()),
    getOwnPropertyDescriptor: (_, key) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(load(), key);
      return descriptor && { ...descriptor, configurable: true };
    },
  });
}
