import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { pino } from "pino";
import { Registry } from "prom-client";
import type { ComponentContext } from "../../../runtime/component.ts";
import { until } from "../../../runtime/testing.ts";
import type { LogEvent } from "../../log-event.ts";

export interface TestContext extends ComponentContext {
  /** Every log line the component wrote, parsed. */
  logs: Record<string, unknown>[];
  /** The metric's value for these labels (0 when absent). */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
}

/** A component context for tests: a temp state dir, a fresh registry and a captured logger. */
export async function testContext(): Promise<TestContext> {
  const logs: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split("\n")) if (line) logs.push(JSON.parse(line));
      done();
    },
  });
  const registry = new Registry();
  return {
    logger: pino({ level: "debug", messageKey: "msg", errorKey: "error" }, destination),
    registry,
    stateDir: await mkdtemp(join(tmpdir(), "sidecar-sink-test-")),
    now: () => Date.now(),
    logs,
    async metric(name, labels = {}) {
      const metric = registry.getSingleMetric(name);
      if (!metric) return 0;
      const { values } = await metric.get();
      const found = values.find((v) =>
        Object.entries(labels).every(([k, val]) => v.labels[k] === val),
      );
      return found?.value ?? 0;
    },
  };
}

/** `count` distinct events, numbered in their messages (`event 0`, `event 1`, …). */
export function testEvents(
  count: number,
  { start = 0, source = "/var/log/app.log" } = {},
): LogEvent[] {
  return Array.from({ length: count }, (_, i) => ({
    message: `event ${start + i}`,
    timestamp: Date.UTC(2024, 0, 1) + start + i,
    level: "info",
    fields: { n: start + i },
    source,
    position: { streamId: "fp", offset: (start + i + 1) * 10 },
  }));
}

/** Polls `check` until it returns true, at most `tries` times 20 ms apart (a bounded wait). */
export function eventually(check: () => boolean, tries = 250): Promise<void> {
  return until(check, "the condition", tries * 20, 20);
}
