import assert from "node:assert/strict";
import { test } from "node:test";
import { createJsonParser, jsonParserSchema } from "../json/index.ts";
import { createLogfmtParser, logfmtParserSchema } from "../logfmt/index.ts";
import { createRegexParser, regexParserSchema } from "../regex/index.ts";
import { normalizeLevel } from "./normalize-level.ts";
import { parseTimestamp } from "./parse-timestamp.ts";
import { lineFeeder } from "./test-lines.ts";

test("normalizes the many spellings of levels", () => {
  const cases: [unknown, string | undefined][] = [
    ["WARN", "warn"],
    ["warning", "warn"],
    ["W", "warn"],
    ["Err", "error"],
    ["CRITICAL", "fatal"],
    ["notice", "info"],
    ["dbg", "debug"],
    [30, "info"],
    ["50", "error"],
    ["banana", undefined],
    [null, undefined],
  ];
  for (const [value, level] of cases) assert.equal(normalizeLevel(value), level, String(value));
});

test("parses timestamps in named and strftime formats", () => {
  const t = Date.UTC(2016, 9, 6, 0, 17, 9, 669);
  assert.equal(parseTimestamp("2016-10-06T00:17:09.669794202Z", "rfc3339"), t);
  assert.equal(parseTimestamp("2016-10-06T02:17:09.669+02:00", "auto"), t);
  assert.equal(parseTimestamp(1475713029.669, "unix"), t);
  assert.equal(parseTimestamp(t, "auto"), t);
  assert.equal(parseTimestamp(`${t}000000`, "auto"), t);
  assert.equal(parseTimestamp("06/Oct/2016:00:17:09 +0000", "%d/%b/%Y:%H:%M:%S %z"), t - 669);
  assert.equal(parseTimestamp("2016-10-06 00:17:09,669", "%Y-%m-%d %H:%M:%S,%L"), t);
  assert.equal(parseTimestamp("yesterday", "auto"), undefined);
  assert.equal(parseTimestamp(1e30, "unix"), undefined, "out of the Date range");
  assert.equal(parseTimestamp("2016-13-06T00:17:09Z", "rfc3339"), undefined);
  assert.throws(() => parseTimestamp("x", "%Q"), RangeError);
});

test("json: takes message, time and level out, keeps the rest as fields", () => {
  const p = createJsonParser(jsonParserSchema.parse({ type: "json" }));
  const [event] = p.push(
    lineFeeder()('{"msg":"hi","level":"WARNING","ts":"2024-01-01T00:00:00Z","user":"ann","n":2}'),
  );
  assert.equal(event!.message, "hi");
  assert.equal(event!.level, "warn");
  assert.equal(event!.timestamp, Date.UTC(2024, 0, 1));
  assert.deepEqual(event!.fields, { user: "ann", n: 2 });
});

test("json: a line that is not an object is kept raw with parseError", () => {
  const p = createJsonParser(jsonParserSchema.parse({ type: "json" }));
  for (const text of ["{broken", "[1,2]", '"str"']) {
    const [event] = p.push(lineFeeder()(text));
    assert.equal(event!.message, text);
    assert.match(event!.parseError!, /invalid JSON/);
  }
});

test("json: configured keys and a timestamp format", () => {
  const p = createJsonParser(
    jsonParserSchema.parse({
      type: "json",
      messageKey: "text",
      timestampKey: "when",
      timestampFormat: "unix_ms",
      levelKey: "sev",
    }),
  );
  const [event] = p.push(lineFeeder()('{"text":"x","when":1700000000123,"sev":"E","msg":"kept"}'));
  assert.equal(event!.message, "x");
  assert.equal(event!.timestamp, 1700000000123);
  assert.equal(event!.level, "error");
  assert.deepEqual(event!.fields, { msg: "kept" });
});

test("json: a time that does not parse stays a field and the read time is used", () => {
  const p = createJsonParser(jsonParserSchema.parse({ type: "json" }));
  const line = lineFeeder()('{"message":"m","time":"soon"}');
  const [event] = p.push(line);
  assert.equal(event!.timestamp, line.readAt);
  assert.equal(event!.fields.time, "soon");
});

test("logfmt: quoted values, escapes and bare keys", () => {
  const p = createLogfmtParser(logfmtParserSchema.parse({ type: "logfmt" }));
  const [event] = p.push(lineFeeder()('level=warn msg="say \\"hi\\"" dur=3ms debug'));
  assert.equal(event!.message, 'say "hi"');
  assert.equal(event!.level, "warn");
  assert.deepEqual(event!.fields, { dur: "3ms", debug: true });
  const [bad] = p.push(lineFeeder()('msg="unclosed'));
  assert.ok(bad!.parseError);
  assert.equal(bad!.message, 'msg="unclosed');
});

test("regex: named groups become fields; a non-matching line keeps parseError", () => {
  const p = createRegexParser(
    regexParserSchema.parse({
      type: "regex",
      pattern: "^(?<time>\\S+) \\[(?<level>\\w+)\\] (?<component>\\w+): (?<message>.*)$",
      timestampFormat: "rfc3339",
    }),
  );
  const [event] = p.push(lineFeeder()("2024-01-01T00:00:00Z [W] db: slow query"));
  assert.equal(event!.message, "slow query");
  assert.equal(event!.level, "warn");
  assert.equal(event!.timestamp, Date.UTC(2024, 0, 1));
  assert.deepEqual(event!.fields, { component: "db" });
  const [miss] = p.push(lineFeeder()("something else"));
  assert.equal(miss!.message, "something else");
  assert.ok(miss!.parseError);
  assert.equal(regexParserSchema.safeParse({ type: "regex", pattern: "no groups" }).success, false);
});

test("a truncated line is marked in the fields", () => {
  const p = createJsonParser(jsonParserSchema.parse({ type: "json" }));
  const line = { ...lineFeeder()('{"message":"cut'), truncated: true };
  const [event] = p.push(line);
  assert.equal(event!.fields.truncated, true);
  assert.ok(event!.parseError);
});

test("json: a __proto__ key stays a plain field, the prototype is untouched", () => {
  const p = createJsonParser(jsonParserSchema.parse({ type: "json" }));
  const [event] = p.push(lineFeeder()('{"message":"m","__proto__":{"polluted":true}}'));
  assert.equal(Object.getPrototypeOf(event!.fields), Object.prototype);
  assert.equal((event!.fields as { polluted?: boolean }).polluted, undefined);
  assert.deepEqual(JSON.parse(JSON.stringify(event!.fields)), {
    ["__proto__"]: { polluted: true },
  });
});
