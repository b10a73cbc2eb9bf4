import assert from "node:assert/strict";
import { test } from "node:test";
import { type AccessLogEntry, formatAccessLogLine } from "./access-log.ts";

test("an access log line is the JSON of the entry, with hostile strings escaped", () => {
  const entry: AccessLogEntry = {
    start_time: "2026-11-24T13:00:00.000Z",
    method: "GET",
    path: '/a"b\\c?\u0001x=\u00e9',
    protocol: "HTTP/1.1",
    status: 200,
    response_flags: "URX,UC",
    bytes_received: 0,
    bytes_sent: 13,
    duration_ms: 1.25,
    upstream_service_time_ms: null,
    upstream_host: "127.0.0.1:8080",
    upstream_cluster: "app",
    route: null,
    request_id: "id-1",
    client_address: "::1",
    user_agent: 'ua "quoted"\n',
    authority: null,
    x_forwarded_for: "1.2.3.4",
  };
  const line = formatAccessLogLine(entry);
  assert.ok(line.endsWith("}\n"));
  assert.equal(line.split("\n").length, 2, "one line");
  assert.deepEqual(JSON.parse(line), entry);
});
