import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { ComponentContext } from "../../runtime/component.ts";
import type { LogEvent, Parser } from "../log-event.ts";
import { parserComponents } from "./index.ts";
import { lineFeeder } from "./shared/test-lines.ts";

/** A minimal valid config per parser type, for the shared contract. */
const configs: Record<string, unknown> = {
  none: { type: "none" },
  json: { type: "json" },
  logfmt: { type: "logfmt" },
  regex: { type: "regex", pattern: "^(?<level>[A-Z]+) (?<message>.*)$" },
  cri: { type: "cri" },
  docker: { type: "docker" },
  multiline: { type: "multiline", startPattern: "^\\S" },
};

const ctx = {} as ComponentContext;

function build(type: string): Parser {
  const component = parserComponents.find((c) => c.type === type)!;
  const config = component.schema.parse(configs[type]);
  return (component.build as (c: unknown, x: ComponentContext) => Parser)(config, ctx);
}

/** Lines of every kind: valid for some parsers, garbage for others. */
const mixed = [
  '{"message":"hello","level":"WARN","time":"2024-01-01T00:00:00Z"}',
  'level=info msg="hi there" n=3',
  "2016-10-06T00:17:09.669794202Z stdout F full line",
  '{"log":"docker line\\n","stream":"stderr","time":"2019-01-01T11:11:11.111111111Z"}',
  "ERROR something broke",
  "   indented continuation",
  "",
  'not { json = at all "',
  "\u0000\u00ff binary \ud83d\ude00",
];

for (const component of parserComponents) {
  describe(`parser contract: ${component.type}`, () => {
    test("every config example in the contract is valid for the schema", () => {
      assert.ok(component.schema.safeParse(configs[component.type]).success);
    });

    test("rejects unknown config keys", () => {
      const bad = { ...(configs[component.type] as object), nope: 1 };
      assert.equal(component.schema.safeParse(bad).success, false);
    });

    test("never loses a line: every line's text ends up in an event after flush", () => {
      const parser = build(component.type);
      const feed = lineFeeder();
      const events: LogEvent[] = [];
      for (const text of mixed) events.push(...parser.push(feed(text)));
      events.push(...parser.flush());
      const all = events.map((e) => `${e.message} ${JSON.stringify(e.fields)}`).join("\n");
      for (const word of [
        "hello",
        "hi there",
        "full line",
        "docker line",
        "something broke",
        "indented",
        "binary",
      ])
        assert.ok(all.includes(word), `"${word}" is in some event`);
      for (const event of events) {
        assert.equal(event.source, "/var/log/app.log");
        assert.equal(typeof event.timestamp, "number");
        assert.ok(Number.isFinite(event.timestamp));
        if (event.parseError !== undefined) assert.equal(typeof event.parseError, "string");
      }
    });

    test("never lets a position pass a line it still holds, and the last event reaches the end", () => {
      const parser = build(component.type);
      const feed = lineFeeder();
      const events: LogEvent[] = [];
      let end = 0;
      for (const text of mixed) {
        const line = feed(text);
        end = line.position.offset;
        events.push(...parser.push(line));
      }
      const beforeFlush = events.length;
      events.push(...parser.flush("/var/log/app.log"));
      assert.deepEqual(parser.flush(), [], "nothing is held after a flush");
      const maxOffset = Math.max(...events.map((e) => e.position.offset));
      assert.equal(maxOffset, end, "the furthest position is the last line's");
      for (const event of events.slice(0, beforeFlush)) assert.ok(event.position.offset <= end);
    });

    test("flush of another source leaves held lines alone", () => {
      const parser = build(component.type);
      const feed = lineFeeder();
      for (const text of mixed) parser.push(feed(text));
      assert.deepEqual(parser.flush("/other.log"), []);
    });
  });
}
