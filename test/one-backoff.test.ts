import assert from "node:assert/strict";
import { glob, readFile } from "node:fs/promises";
import { test } from "node:test";

// The program has one backoff: src/runtime/backoff.ts. Every retry loop (log sinks, app restarts,
// proxy retries, the coming roles) computes its wait there, so jitter and Retry-After handling
// stay the same everywhere. This test fails when a second one appears.
const home = "runtime/backoff.ts";

/** A function, class or arrow/function-valued const whose name says backoff. */
const declaredBackoff =
  /^\s*(?:export\s+)?(?:(?:async\s+)?function\*?\s+(\w*backoff\w*)|(?:abstract\s+)?class\s+(\w*backoff\w*)|(?:const|let|var)\s+(\w*backoff\w*)\s*(?::[^=]+)?=\s*(?:async\s*)?(?:\([^)]*\)|\w+)\s*=>|(?:const|let|var)\s+(\w*backoff\w*)\s*=\s*(?:async\s+)?function)/gim;
/** A method named like a backoff: `backoffDelay(...) {` at the start of a line. */
const backoffMethod =
  /^\s*(?:(?:public|private|protected|static|async)\s+)*#?(\w*backoff\w*)\s*\([^)]*\)\s*(?::[^{]+)?\{/gim;
/** An exponential growth on a retry counter: `2 ** attempt`, `2 ** (tries - 1)`, Math.pow(2, retry). */
const inlineExponential =
  /\b2\s*\*\*\s*\(?[^;\n]*?\b\w*(attempt|tries|try|retry|retries|failures)\w*\b|Math\.pow\(\s*2\s*,[^)]*\b\w*(attempt|tries|try|retry|retries|failures)\w*/gi;

function findings(text: string): string[] {
  const out: string[] = [];
  for (const re of [declaredBackoff, backoffMethod, inlineExponential])
    for (const match of text.matchAll(re)) out.push(match[0].trim().split("\n")[0]!);
  return out;
}

test("only src/runtime/backoff.ts defines a backoff", async () => {
  const src = new URL("../src/", import.meta.url);
  const offenders: string[] = [];
  for await (const file of glob("**/*.ts", { cwd: src.pathname })) {
    if (file === home || file.endsWith(".test.ts")) continue;
    const text = await readFile(new URL(file, src), "utf8");
    for (const finding of findings(text)) offenders.push(`${file}: ${finding}`);
  }
  assert.deepEqual(offenders, []);
});

test("the scan recognises a second backoff and leaves config fields and calls alone", async () => {
  const home_ = await readFile(new URL(`../src/${home}`, import.meta.url), "utf8");
  assert.notDeepEqual(findings(home_), [], "the scan must see the real backoff");
  const flagged = [
    "export function backoffDelaySeconds(attempt: number) {",
    "function computeBackoff(n) {",
    "export class ExponentialBackoff {",
    "const nextBackoff = (n: number) => n * 2;",
    "  #backoffMs(attempt: number): number {",
    "    const cap = Math.min(max, base * 2 ** (tries - 1));",
    "const wait = initial * 2 ** attempt;",
    "const wait = Math.pow(2, retries) * base;",
  ];
  for (const line of flagged) assert.notDeepEqual(findings(line), [], line);
  const allowed = [
    "    restartBackoff: z.strictObject({",
    "  initialBackoffSeconds: seconds(0.5),",
    "  const { maxRetries, initialBackoffSeconds, maxBackoffSeconds } = this.#config.retry;",
    "const delay = backoffDelay(attempt, { initialMs, maxMs });",
    "let backoffTimer: NodeJS.Timeout | undefined;",
    "const backoff = new Backoff({ initialMs: 1, maxMs: 2 });",
    "if (elapsed >= backoffResetSeconds) backoff.reset();",
    "const mask = 2 ** 32 - 1;",
    "const size = 2 ** 20; // 1 MiB",
  ];
  for (const line of allowed) assert.deepEqual(findings(line), [], line);
});
