import assert from "node:assert/strict";
import { test } from "node:test";
import { createLogger, isPretty } from "./logger.ts";
import { createPrettyStream, formatLine } from "./pretty-stream.ts";

test("a JSON event becomes one short line: time, level, role, message, then key fields", () => {
  const line = formatLine(
    JSON.stringify({
      level: "info",
      time: "2026-11-27T17:40:02.113Z",
      component: "sidecar",
      role: "proxy",
      msg: "proxy listening",
      listener: "ingress",
      address: "127.0.0.1:8081",
    }),
  );
  assert.equal(
    line,
    "17:40:02.113 INFO  proxy  proxy listening listener=ingress address=127.0.0.1:8081",
  );
});

test("errors show their message, values with spaces are quoted, and non-JSON passes through", () => {
  const line = formatLine(
    JSON.stringify({
      level: "error",
      time: "2026-11-27T17:40:02.113Z",
      msg: "failed",
      error: { type: "Error", message: "boom now", stack: "…" },
      reason: "a b",
    }),
  );
  assert.equal(line, '17:40:02.113 ERROR        failed error="boom now" reason="a b"');
  assert.equal(formatLine("not json"), "not json");
});

test("pretty lines keep secrets masked: they are formatted from what the logger already redacted", () => {
  const out: string[] = [];
  const stream = createPrettyStream({ write: (text) => out.push(text), color: false });
  const logger = createLogger({ level: "info", destination: stream });
  logger.info({ headers: { authorization: "Bearer s3cr3t" }, token: "t0k3n" }, "calling");
  assert.equal(out.length, 1);
  assert.doesNotMatch(out[0]!, /s3cr3t|t0k3n/);
  assert.match(out[0]!, /\[redacted\]/);
});

test("auto means pretty only on a terminal; json and pretty are what they say", () => {
  assert.equal(isPretty("auto", true), true);
  assert.equal(isPretty("auto", false), false);
  assert.equal(isPretty(undefined, false), false);
  assert.equal(isPretty("json", true), false);
  assert.equal(isPretty("pretty", false), true);
});
