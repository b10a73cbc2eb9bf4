import assert from "node:assert/strict";
import { test } from "node:test";
import type { LogEvent } from "../log-event.ts";
import { addFields, addFieldsSchema } from "./add-fields/index.ts";
import { drop, dropSchema } from "./drop/index.ts";
import { fieldsFromPath, fieldsFromPathSchema } from "./fields-from-path/index.ts";
import { transformComponents } from "./index.ts";
import { redact, redactSchema } from "./redact/index.ts";

const event = (over: Partial<LogEvent> = {}): LogEvent => ({
  message: "hello",
  timestamp: 1,
  fields: {},
  source: "/a.log",
  position: { streamId: "a", offset: 6 },
  ...over,
});

test("every transform component rejects unknown keys and has a kebab-case type", () => {
  for (const component of transformComponents) {
    assert.match(component.type, /^[a-z]+(-[a-z]+)*$/);
    assert.equal(component.schema.safeParse({ type: component.type, nope: 1 }).success, false);
  }
});

test("add-fields: static fields and Downward API variables; a missing variable is reported", () => {
  const missing: string[] = [];
  const t = addFields(
    addFieldsSchema.parse({
      type: "add-fields",
      fields: { cluster: "eu-1", replica: 2 },
      fromEnv: { pod: "POD_NAME", namespace: "POD_NAMESPACE", node: "NODE_NAME" },
    }),
    { env: { POD_NAME: "web-1", POD_NAMESPACE: "shop" }, onMissing: (v) => missing.push(v) },
  );
  const out = t(event({ fields: { cluster: "old" } }))!;
  assert.deepEqual(out.fields, { cluster: "eu-1", replica: 2, pod: "web-1", namespace: "shop" });
  assert.deepEqual(missing, ["NODE_NAME"]);
});

test("add-fields: overwrite false keeps the event's own value", () => {
  const t = addFields(
    addFieldsSchema.parse({ type: "add-fields", fields: { a: 1 }, overwrite: false }),
  );
  assert.equal(t(event({ fields: { a: 0 } }))!.fields.a, 0);
});

test("drop: by field value, regex, existence and level below", () => {
  const t = drop(
    dropSchema.parse({
      type: "drop",
      conditions: [
        { field: "path", equals: "/healthz" },
        { field: "message", matches: "^GET /metrics" },
        { field: "http.status", equals: 304 },
        { field: "debugOnly", exists: true },
        { levelBelow: "info" },
      ],
    }),
  );
  assert.equal(t(event({ fields: { path: "/healthz" } })), null);
  assert.equal(t(event({ message: "GET /metrics 200" })), null);
  assert.equal(t(event({ fields: { http: { status: 304 } } })), null);
  assert.equal(t(event({ fields: { debugOnly: 1 } })), null);
  assert.equal(t(event({ level: "debug" })), null);
  assert.ok(t(event({ level: "warn", fields: { path: "/api" } })));
  assert.ok(t(event()), "an event without a level is not below anything");
});

test("drop: mode all needs every condition", () => {
  const t = drop(
    dropSchema.parse({
      type: "drop",
      mode: "all",
      conditions: [{ levelBelow: "warn" }, { field: "source", matches: "noisy" }],
    }),
  );
  assert.ok(t(event({ level: "info" })));
  assert.equal(t(event({ level: "info", source: "/noisy.log" })), null);
});

test("redact: bearer tokens, card numbers (Luhn), passwords, JWTs; other digits untouched", () => {
  const t = redact(redactSchema.parse({ type: "redact" }));
  const out = t(
    event({
      message:
        "Authorization: Bearer abc.DEF-123_x= card 4111 1111 1111 1111 order 1234567890123 password=hunter2 t=eyJhbGciOi.eyJzdWIiOiIx.sig_-1",
      fields: { nested: { header: "bearer SECRETTOKEN" }, n: 5 },
    }),
  )!;
  assert.equal(
    out.message,
    "Authorization: Bearer [REDACTED] card [REDACTED] order 1234567890123 password=[REDACTED] t=[REDACTED]",
  );
  assert.deepEqual(out.fields, { nested: { header: "bearer [REDACTED]" }, n: 5 });
});

test("redact: custom patterns with a replacement, limited to named fields", () => {
  const t = redact(
    redactSchema.parse({
      type: "redact",
      patterns: [],
      custom: [
        { pattern: "(ssn=)\\d{3}-\\d{2}-\\d{4}", replacement: "$1***" },
        { pattern: "internal-\\w+" },
      ],
      fields: ["message", "note"],
    }),
  );
  const out = t(
    event({
      message: "ssn=123-45-6789 host internal-db",
      fields: { note: "internal-x", other: "internal-y" },
    }),
  )!;
  assert.equal(out.message, "ssn=*** host [REDACTED]");
  assert.deepEqual(out.fields, { note: "[REDACTED]", other: "internal-y" });
});

test("fields-from-path: Kubernetes pod log paths give namespace, pod, pod_uid and container", () => {
  const t = fieldsFromPath(
    fieldsFromPathSchema.parse({
      type: "fields-from-path",
      pattern: "/(?<namespace>[^_/]+)_(?<pod>[^_/]+)_(?<pod_uid>[^_/]+)/(?<container>[^/]+)/[^/]+$",
    }),
  );
  const source = "/var/log/pods/shop_web-7d9f-abcde_0f1e2d3c-aaaa-bbbb-cccc-123456789abc/app/0.log";
  for (const path of [source, `${source}.20260101-120000`]) {
    assert.deepEqual(t(event({ source: path }))!.fields, {
      namespace: "shop",
      pod: "web-7d9f-abcde",
      pod_uid: "0f1e2d3c-aaaa-bbbb-cccc-123456789abc",
      container: "app",
    });
  }
  assert.deepEqual(t(event({ source: "/var/log/other.log" }))!.fields, {});
  assert.equal(
    fieldsFromPathSchema.safeParse({ type: "fields-from-path", pattern: "no-groups" }).success,
    false,
  );
});
