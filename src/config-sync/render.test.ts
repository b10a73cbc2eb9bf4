import assert from "node:assert/strict";
import { test } from "node:test";
import { parseEnv, renderOutput, toEnv } from "./render.ts";
import type { SourceSnapshot } from "./sources/config-source.ts";
import { entryPath, mergeValues } from "./values.ts";

const snap = (entries: Record<string, string>, single = false): SourceSnapshot => ({
  entries: new Map(Object.entries(entries).map(([k, v]) => [k, Buffer.from(v)])),
  version: "v",
  single,
});

const template = (text: string, missingKey: "error" | "empty" = "error") => ({
  kind: "template" as const,
  template: text,
  missingKey,
});

test("entry names become value paths: dots and slashes nest, parsed files drop their extension", () => {
  assert.deepEqual(entryPath("log.level", false), ["log", "level"]);
  assert.deepEqual(entryPath("db/host", false), ["db", "host"]);
  assert.deepEqual(entryPath("settings.json", true), ["settings"]);
});

test("sources merge in order, the later wins, objects merge key by key", () => {
  const values = mergeValues([
    { snapshot: snap({ "app.yaml": "db: {host: a, port: 1}\nx: 1\n" }, true), parse: "auto" },
    { snapshot: snap({ "db.port": "2", "flags.json": '{"beta": true}' }), parse: "auto" },
  ]);
  assert.deepEqual(values, { db: { host: "a", port: "2" }, x: 1, flags: { beta: true } });
});

test("a JSON output escapes strings inside quotes and writes objects as JSON", () => {
  const out = renderOutput(
    { path: "a.json", format: "json", what: template('{"s": "{{s}}", "o": {{o}}, "n": {{n}}}') },
    { s: 'a "quoted"\nline', o: { k: [1, 2] }, n: 5 },
    new Map(),
  );
  assert.deepEqual(out.parsed, { s: 'a "quoted"\nline', o: { k: [1, 2] }, n: 5 });
});

test("a text template is not HTML-escaped", () => {
  const out = renderOutput(
    { path: "a.conf", format: "text", what: template("url={{u}}") },
    { u: "http://x/?a=1&b=<2>" },
    new Map(),
  );
  assert.equal(out.files.get("a.conf")!.toString(), "url=http://x/?a=1&b=<2>");
});

test("missing keys fail by default and render empty when asked; sections may be absent", () => {
  const render = (what: ReturnType<typeof template>) =>
    renderOutput({ path: "x", format: "text", what }, { a: 1 }, new Map());
  assert.throws(() => render(template("{{a}}{{b}}")), /no value for "b"/);
  assert.equal(render(template("{{a}}{{b}}", "empty")).files.get("x")!.toString(), "1");
  assert.equal(render(template("{{#b}}{{c}}{{/b}}{{a}}")).files.get("x")!.toString(), "1");
});

test("an output that is not the format it claims fails with the reason", () => {
  assert.throws(
    () =>
      renderOutput(
        { path: "a.json", format: "json", what: template("{{a}}") },
        { a: "{" },
        new Map(),
      ),
    /not valid JSON/,
  );
  assert.throws(
    () => renderOutput({ path: "a.env", format: "env", what: template("not env") }, {}, new Map()),
    /not valid \.env: line 1/,
  );
});

test("values as json, yaml and .env; .env round-trips through the parser", () => {
  const values = { db: { host: "h", pass: 'a b"c' }, n: 1 };
  const json = renderOutput(
    { path: "a.json", format: "json", what: { kind: "values" } },
    values,
    new Map(),
  );
  assert.deepEqual(json.parsed, values);
  const yaml = renderOutput(
    { path: "a.yaml", format: "yaml", what: { kind: "values" } },
    values,
    new Map(),
  );
  assert.deepEqual(yaml.parsed, values);
  assert.deepEqual(parseEnv(toEnv(values)), { DB_HOST: "h", DB_PASS: 'a b"c', N: "1" });
});

test("a source output publishes its entries as files, or one key as one file", () => {
  const snapshots = new Map([["cm", snap({ a: "1", "d/b": "2" })]]);
  const all = renderOutput(
    { path: "conf", format: "text", what: { kind: "source", source: "cm", key: undefined } },
    {},
    snapshots,
  );
  assert.deepEqual([...all.files.keys()], ["conf/a", "conf/d/b"]);
  const one = renderOutput(
    { path: "x.txt", format: "text", what: { kind: "source", source: "cm", key: "a" } },
    {},
    snapshots,
  );
  assert.deepEqual([...one.files.entries()], [["x.txt", Buffer.from("1")]]);
});
