import assert from "node:assert/strict";
import { glob, readFile } from "node:fs/promises";
import { test } from "node:test";

// See src/runtime/builtins.ts: a value import of these built-ins as ESM loads their lazy exports
// (undici, http2, tls, worker_threads, readline): 12 MB of RSS for nothing. node:tls and
// node:https are loaded on first use there: TLS costs 4 MB where none is configured.
const costly = /^import\s+(?!type\b)[^;]*?from\s+"node:(http|https|fs|util|tls)";/gms;

test("product code takes node:http, https, fs, util and tls from runtime/builtins.ts, not as ESM imports", async () => {
  const src = new URL("../src/", import.meta.url);
  const offenders: string[] = [];
  for await (const file of glob("**/*.ts", { cwd: src.pathname })) {
    if (file.endsWith(".test.ts") || file.includes("testing")) continue;
    const text = await readFile(new URL(file, src), "utf8");
    for (const match of text.matchAll(costly))
      offenders.push(`${file}: ${match[0].split("\n")[0]}`);
  }
  assert.deepEqual(offenders, []);
});
