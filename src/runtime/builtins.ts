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
export const https: typeof import("node:https") = require("node:https");
export const fs: typeof import("node:fs") = require("node:fs");
export const util: typeof import("node:util") = require("node:util");
export const net: typeof import("node:net") = require("node:net");
