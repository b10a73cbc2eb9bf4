import assert from "node:assert/strict";
import { test } from "node:test";
import { lineFeeder } from "../shared/test-lines.ts";
import { createDockerParser, dockerParserSchema } from "./index.ts";

const parser = () => createDockerParser(dockerParserSchema.parse({ type: "docker" }));
const record = (log: string, stream = "stdout") =>
  JSON.stringify({ log, stream, time: "2019-01-01T11:11:11.111111111Z" });

test("reads a json-file record: message without its newline, stream and time", () => {
  const [event] = parser().push(lineFeeder()(record("Log line is here\n")));
  assert.equal(event!.message, "Log line is here");
  assert.equal(event!.fields.stream, "stdout");
  assert.equal(event!.timestamp, Date.UTC(2019, 0, 1, 11, 11, 11, 111));
});

test("joins partial records (no trailing newline) per stream", () => {
  const p = parser();
  const feed = lineFeeder();
  assert.deepEqual(p.push(feed(record("part one, "))), []);
  const err = p.push(feed(record("an error\n", "stderr")));
  assert.equal(err[0]!.message, "an error");
  assert.equal(err[0]!.position.offset, 0);
  const last = feed(record("part two\n"));
  const [joined] = p.push(last);
  assert.equal(joined!.message, "part one, part two");
  assert.deepEqual(joined!.position, last.position);
});

test("keeps a line that is not a json-file record, with parseError", () => {
  const [event] = parser().push(lineFeeder()('{"msg":"no log key"}'));
  assert.equal(event!.message, '{"msg":"no log key"}');
  assert.ok(event!.parseError);
});

test("content parser: logfmt inside Docker records takes its own time", () => {
  const p = createDockerParser(
    dockerParserSchema.parse({ type: "docker", parser: { type: "logfmt" } }),
  );
  const [event] = p.push(lineFeeder()(record('ts=2020-02-02T00:00:00Z level=E msg="db down"\n')));
  assert.equal(event!.message, "db down");
  assert.equal(event!.level, "error");
  assert.equal(event!.timestamp, Date.UTC(2020, 1, 2));
  assert.deepEqual(event!.fields, { stream: "stdout" });
});
