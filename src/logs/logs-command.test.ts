import assert from "node:assert/strict";
import { test } from "node:test";
import { logsOverlay, sinkFromFlag } from "./logs-command.ts";

test("--sink values become sink configs", () => {
  assert.deepEqual(sinkFromFlag("stdout"), { type: "stdout" });
  assert.deepEqual(sinkFromFlag("file:/tmp/out.jsonl"), { type: "file", path: "/tmp/out.jsonl" });
  assert.deepEqual(sinkFromFlag("https://c.example/in"), {
    type: "http",
    url: "https://c.example/in",
  });
  assert.deepEqual(sinkFromFlag("syslog://10.0.0.1:601"), {
    type: "syslog",
    host: "10.0.0.1",
    port: 601,
    protocol: "tcp",
  });
  assert.deepEqual(sinkFromFlag("syslog+udp://[::1]:514"), {
    type: "syslog",
    host: "::1",
    port: 514,
    protocol: "udp",
  });
  assert.throws(() => sinkFromFlag("kafka://x"), { code: "SIDECAR_ERR_USAGE" });
});

test("flags become a logs overlay", () => {
  assert.deepEqual(
    logsOverlay({
      path: ["/var/log/*.log"],
      exclude: ["*.gz"],
      sink: ["stdout"],
      parser: "json",
      readFrom: "tail",
      stateDir: "/data",
    }),
    {
      logs: {
        stateDir: "/data",
        sources: [
          {
            type: "file",
            include: ["/var/log/*.log"],
            exclude: ["*.gz"],
            readFrom: "tail",
            parser: { type: "json" },
          },
        ],
        sinks: [{ type: "stdout" }],
      },
    },
  );
  assert.throws(() => logsOverlay({ parser: "json" }), { code: "SIDECAR_ERR_USAGE" });
});
