import assert from "node:assert/strict";

export interface LokiStream {
  stream: Record<string, string>;
  values: [string, string][];
}

/**
 * Parses a Loki push body strictly, as Loki would: `{streams: [{stream: {label: value}, values:
 * [[ns, line]]}]}`, no other keys, valid label names, nanosecond strings, entries in order.
 */
export function parseLokiPush(body: string): LokiStream[] {
  const parsed = JSON.parse(body) as unknown;
  assert.ok(parsed && typeof parsed === "object" && !Array.isArray(parsed), "body is an object");
  assert.deepEqual(Object.keys(parsed), ["streams"], "only `streams` at the top");
  const { streams } = parsed as { streams: unknown };
  assert.ok(Array.isArray(streams) && streams.length > 0, "streams is a non-empty array");
  for (const s of streams as Record<string, unknown>[]) {
    assert.deepEqual(Object.keys(s).sort(), ["stream", "values"]);
    const labels = s.stream as Record<string, unknown>;
    assert.ok(Object.keys(labels).length > 0, "a stream has at least one label");
    for (const [name, value] of Object.entries(labels)) {
      assert.match(name, /^[a-zA-Z_][a-zA-Z0-9_]*$/, "label name");
      assert.equal(typeof value, "string", `label ${name} is a string`);
    }
    const values = s.values as unknown[];
    assert.ok(Array.isArray(values) && values.length > 0);
    let last = -1n;
    for (const entry of values) {
      assert.ok(Array.isArray(entry) && entry.length === 2, "an entry is [ts, line]");
      const [ts, line] = entry as [unknown, unknown];
      assert.ok(
        typeof ts === "string" && /^\d{1,19}$/.test(ts),
        `timestamp "${String(ts)}" is ns digits`,
      );
      assert.equal(typeof line, "string");
      assert.ok(BigInt(ts) >= last, "entries of a stream are in time order");
      last = BigInt(ts);
    }
  }
  return streams as LokiStream[];
}

export interface BulkOperation {
  action: "create" | "index";
  index: string;
  doc: Record<string, unknown>;
}

/** Parses an Elasticsearch `_bulk` body strictly: action/doc line pairs, every line ending in \n. */
export function parseBulk(body: string): BulkOperation[] {
  assert.ok(body.endsWith("\n"), "a _bulk body ends with a newline");
  const lines = body.slice(0, -1).split("\n");
  assert.equal(lines.length % 2, 0, "action and document lines come in pairs");
  const ops: BulkOperation[] = [];
  for (let i = 0; i < lines.length; i += 2) {
    const action = JSON.parse(lines[i]!) as Record<string, { _index?: unknown }>;
    const keys = Object.keys(action);
    assert.equal(keys.length, 1, "one action per action line");
    const name = keys[0] as "create" | "index";
    assert.ok(name === "create" || name === "index", `action "${name}"`);
    const meta = action[name]!;
    assert.equal(typeof meta._index, "string");
    const doc = JSON.parse(lines[i + 1]!) as Record<string, unknown>;
    assert.ok(doc && typeof doc === "object" && !Array.isArray(doc), "a document is an object");
    ops.push({ action: name, index: meta._index as string, doc });
  }
  return ops;
}

/** A `_bulk` response with one item per operation, in order, with the given statuses. */
export function bulkResponse(
  ops: BulkOperation[],
  statusOf: (op: BulkOperation) => number,
): string {
  const items = ops.map((op) => {
    const status = statusOf(op);
    const result: Record<string, unknown> = { _index: op.index, status };
    if (status >= 300)
      result.error =
        status === 429
          ? { type: "es_rejected_execution_exception", reason: "queue full" }
          : { type: "document_parsing_exception", reason: "failed to parse field" };
    return { [op.action]: result };
  });
  return JSON.stringify({
    took: 1,
    errors: items.some((i) => (Object.values(i)[0]!.status as number) >= 300),
    items,
  });
}
