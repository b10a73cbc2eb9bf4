import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { after, describe, test } from "node:test";
import type { ComponentContext } from "../../runtime/component.ts";
import type { Sink } from "../log-event.ts";
import { LogsSinkErrorCodes } from "./error-codes.ts";
import { sinkComponents } from "./index.ts";
import { createStdoutSink, stdoutSinkSchema } from "./stdout/index.ts";
import { HttpReceiver } from "./testing/http-receiver.ts";
import { bulkResponse, parseBulk, parseLokiPush } from "./testing/strict-bodies.ts";
import { SyslogReceiver } from "./testing/syslog-receiver.ts";
import { testContext, testEvents } from "./testing/test-context.ts";

/** A sink under test and a way to read back the messages its receiver accepted. */
interface Harness {
  sink: Sink;
  /** Takes the receiver down (sinks that have one). */
  down?: () => Promise<void>;
  received(): Promise<string[]>;
  stop(): Promise<void>;
}

type Setup = (ctx: ComponentContext, batch: Record<string, unknown>) => Promise<Harness>;

function build(type: string, config: Record<string, unknown>, ctx: ComponentContext): Sink {
  const component = sinkComponents.find((c) => c.type === type)!;
  const parsed = component.schema.parse({ type, ...config });
  return (component.build as (c: unknown, x: ComponentContext) => Sink)(parsed, ctx);
}

async function httpHarness(
  type: string,
  config: Record<string, unknown>,
  ctx: ComponentContext,
  messagesOf: (body: string) => string[],
  respond?: (body: string) => string,
): Promise<Harness> {
  const receiver = await new HttpReceiver().start();
  if (respond) receiver.respondWith((req) => ({ status: 200, body: respond(req.body) }));
  return {
    sink: build(type, { url: receiver.url, ...config }, ctx),
    received: async () => receiver.accepted.flatMap((r) => messagesOf(r.body)),
    down: () => receiver.stop(),
    stop: () => receiver.stop(),
  };
}

const setups: Record<string, Setup> = {
  stdout: async (ctx, batch) => {
    const stream = new PassThrough();
    let text = "";
    stream.on("data", (chunk) => {
      text += chunk;
    });
    return {
      sink: createStdoutSink(stdoutSinkSchema.parse({ type: "stdout", batch }), ctx, { stream }),
      received: async () =>
        text
          .split("\n")
          .filter(Boolean)
          .map((l) => JSON.parse(l).message),
      stop: async () => {},
    };
  },
  file: async (ctx, batch) => {
    const path = join(ctx.stateDir, "out", "events.jsonl");
    return {
      sink: build("file", { path, batch }, ctx),
      received: async () =>
        (await readFile(path, "utf8").catch(() => ""))
          .split("\n")
          .filter(Boolean)
          .map((l) => JSON.parse(l).message),
      stop: async () => {},
    };
  },
  http: (ctx, batch) =>
    httpHarness("http", { batch }, ctx, (body) =>
      body
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l).message),
    ),
  loki: (ctx, batch) =>
    httpHarness("loki", { batch }, ctx, (body) =>
      parseLokiPush(body).flatMap((s) => s.values.map(([, line]) => JSON.parse(line).message)),
    ),
  elasticsearch: (ctx, batch) =>
    httpHarness(
      "elasticsearch",
      { batch },
      ctx,
      (body) => parseBulk(body).map((op) => op.doc.message as string),
      (body) => bulkResponse(parseBulk(body), () => 201),
    ),
  syslog: async (ctx, batch) => {
    const receiver = await new SyslogReceiver().startTcp();
    return {
      sink: build("syslog", { host: "127.0.0.1", port: receiver.port, batch }, ctx),
      received: async () => {
        // Syslog has no acks: delivered means the kernel took it; let the receiver read it.
        let seen = -1;
        for (let i = 0; i < 50 && seen !== receiver.messages.length; i++) {
          seen = receiver.messages.length;
          await new Promise((resolve) => setTimeout(resolve, 30));
        }
        assert.deepEqual(receiver.errors, []);
        return receiver.messages.map((m) => m.replace(/^(?:\S+ ){6}- /, ""));
      },
      down: () => receiver.stop(),
      stop: () => receiver.stop(),
    };
  },
};

test("every sink component has a contract harness", () => {
  assert.deepEqual(sinkComponents.map((c) => c.type).sort(), Object.keys(setups).sort());
});

for (const component of sinkComponents) {
  describe(`sink contract: ${component.type}`, () => {
    const harnesses: Harness[] = [];
    after(async () => {
      for (const h of harnesses) await h.stop();
    });
    const setup = async (batch: Record<string, unknown> = {}) => {
      const ctx = await testContext();
      const harness = await setups[component.type]!(ctx, batch);
      harnesses.push(harness);
      return { ctx, ...harness };
    };

    test("rejects unknown config keys", () => {
      assert.equal(component.schema.safeParse({ type: component.type, nope: true }).success, false);
    });

    test("write resolves only once every event is delivered; close then leaves 0 unsent", async () => {
      const { ctx, sink, received } = await setup();
      const events = testEvents(25);
      await sink.write(events);
      assert.deepEqual(
        await received(),
        events.map((e) => e.message),
      );
      assert.equal(
        await ctx.metric("sidecar_logs_sink_events_sent_total", { sink: sink.name }),
        25,
      );
      assert.ok((await ctx.metric("sidecar_logs_sink_last_success_timestamp_seconds")) > 1.7e9);
      assert.equal(await sink.close(AbortSignal.timeout(5000)), 0);
    });

    test("concurrent writes are batched and all delivered, in batches no bigger than maxEvents", async () => {
      const { sink, received } = await setup({ maxEvents: 7, maxAgeSeconds: 0.05 });
      const writes = [];
      for (let i = 0; i < 10; i++) writes.push(sink.write(testEvents(5, { start: i * 5 })));
      await Promise.all(writes);
      const got = await received();
      assert.deepEqual(
        [...got].sort(),
        testEvents(50)
          .map((e) => e.message)
          .sort(),
      );
      assert.equal(await sink.close(AbortSignal.timeout(5000)), 0);
    });

    test("close flushes what is still batched; a write after close is refused with a code", async () => {
      const { sink, received } = await setup({ maxEvents: 1000, maxAgeSeconds: 60 });
      const first = sink.write(testEvents(1));
      const second = sink.write(testEvents(3, { start: 1 })); // held: one batch is in flight
      assert.equal(await sink.close(AbortSignal.timeout(5000)), 0);
      await Promise.all([first, second]);
      assert.equal((await received()).length, 4);
      await assert.rejects(sink.write(testEvents(1)), { code: LogsSinkErrorCodes.SINK_CLOSED });
      assert.equal(await sink.close(AbortSignal.timeout(100)), 0, "close is idempotent");
    });

    // stdout and file have no receiver to take down: the case applies to network sinks only.
    const remote = ["http", "loki", "elasticsearch", "syslog"].includes(component.type);
    if (remote)
      test("receiver down at shutdown: close resolves at its deadline with the unsent count", async () => {
        const { ctx, sink, down } = await setup({ maxEvents: 4 });
        await down!();
        const written = sink.write(testEvents(10)).catch((error: unknown) => error);
        const unsent = await sink.close(AbortSignal.timeout(150));
        assert.equal(unsent, 10);
        assert.equal(((await written) as { code: string }).code, LogsSinkErrorCodes.SINK_CLOSED);
        assert.equal(
          await ctx.metric("sidecar_logs_sink_events_failed_total", {
            sink: sink.name,
            reason: "unsent_at_close",
          }),
          10,
        );
      });

    test("an event JSON cannot hold is delivered or dead-lettered, never retried forever", async () => {
      const { ctx, sink, received } = await setup();
      const [bad] = testEvents(1);
      bad!.fields.big = 10n;
      await sink.write([bad!]);
      const path = join(ctx.stateDir, "dead-letter", `${sink.name}.jsonl`);
      const dead = await readFile(path, "utf8").catch(() => undefined);
      if (dead === undefined) {
        // A sink that does not send fields (syslog without structured data) delivers it.
        assert.deepEqual(await received(), ["event 0"]);
      } else {
        const record = JSON.parse(dead);
        assert.match(record.reason, /Cannot encode the batch/);
        assert.equal(record.event.message, "event 0");
      }
      assert.equal(await sink.close(AbortSignal.timeout(1000)), 0);
    });

    test("an empty write resolves at once", async () => {
      const { sink } = await setup();
      await sink.write([]);
      assert.equal(await sink.close(AbortSignal.timeout(1000)), 0);
    });
  });
}
