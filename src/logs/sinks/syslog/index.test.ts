import assert from "node:assert/strict";
import { after, test } from "node:test";
import type { LogEvent } from "../../log-event.ts";
import { SyslogReceiver } from "../testing/syslog-receiver.ts";
import { eventually, testContext, testEvents } from "../testing/test-context.ts";
import {
  createSyslogFormatter,
  createSyslogFramer,
  formatSyslog,
  octetCountedFrame,
} from "./encoder.ts";
import { createSyslogSink, syslogSinkSchema } from "./index.ts";

const receivers: SyslogReceiver[] = [];
after(async () => {
  for (const r of receivers) await r.stop();
});

const event = (over: Partial<LogEvent> = {}): LogEvent => ({
  message: "'su root' failed for lonvick on /dev/pts/8",
  timestamp: Date.UTC(2003, 9, 11, 22, 14, 15, 3),
  level: "fatal",
  fields: {},
  source: "/a.log",
  position: { streamId: "a", offset: 1 },
  ...over,
});

test("formats RFC 5424 like its own example, with octet counting by UTF-8 bytes", () => {
  const msg = formatSyslog(event(), {
    facility: "auth",
    hostname: "mymachine.example.com",
    appName: "su",
    msgId: "ID47",
  });
  assert.equal(
    msg,
    "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - 'su root' failed for lonvick on /dev/pts/8",
  );
  assert.equal(octetCountedFrame("é"), "2 é");
});

test("structured data from fields, escaped; header fields made printable; severity from level", () => {
  const msg = formatSyslog(
    event({ level: "warn", message: "m", fields: { user: 'a"b]c\\', n: 1 } }),
    {
      facility: "local0",
      hostname: "host name",
      appName: "app",
      structuredDataId: "fields@32473",
    },
  );
  assert.equal(
    msg,
    '<132>1 2003-10-11T22:14:15.003Z host_name app - - [fields@32473 user="a\\"b\\]c\\\\" n="1"] m',
  );
});

test("TCP frames in one Buffer: byte for byte the framed messages, in both framings", () => {
  const events = [
    event(),
    event({ message: "same time and level" }),
    event({ level: undefined, message: "no level" }),
    event({ level: "info", message: "" }),
    event({ message: "two\nlines é ✓ 😀" }),
    event({ timestamp: Date.UTC(2024, 0, 1), message: "later", fields: { user: "a\nb", n: 1 } }),
  ];
  for (const structuredDataId of [undefined, "fields@32473"]) {
    const options = {
      facility: "local0" as const,
      hostname: "h",
      appName: "app",
      structuredDataId,
    };
    const format = createSyslogFormatter(options);
    const messages = events.map(format);
    assert.equal(
      createSyslogFramer(options, "octet-counting")(events).toString(),
      messages.map(octetCountedFrame).join(""),
    );
    assert.equal(
      createSyslogFramer(options, "newline")(events).toString(),
      messages.map((m) => `${m.replace(/\n/g, " ")}\n`).join(""),
    );
  }
});

test("TCP: reconnects after the receiver restarts and delivers what was written meanwhile", async () => {
  const receiver = await new SyslogReceiver().startTcp();
  receivers.push(receiver);
  const ctx = await testContext();
  const sink = createSyslogSink(
    syslogSinkSchema.parse({
      type: "syslog",
      host: "127.0.0.1",
      port: receiver.port,
      retry: { initialBackoffSeconds: 0.005, maxBackoffSeconds: 0.02 },
    }),
    ctx,
  );
  await sink.write(testEvents(2));
  await eventually(() => receiver.messages.length === 2);
  const port = receiver.port;
  await receiver.stop();
  await new Promise((resolve) => setTimeout(resolve, 50)); // the sink sees the connection close
  const restarted = new SyslogReceiver();
  receivers.push(restarted);
  // While it is down, writes are retried (the closed connection is reopened).
  const writing = sink.write(testEvents(3, { start: 2 }));
  await new Promise((resolve) => setTimeout(resolve, 50));
  await restarted.startTcp(port);
  await writing;
  await eventually(() => restarted.messages.some((m) => m.endsWith("event 4")));
  assert.ok(restarted.messages.some((m) => m.endsWith("event 4")));
  assert.deepEqual(restarted.errors, []);
  assert.equal(await sink.close(AbortSignal.timeout(2000)), 0);
});

test("UDP: one RFC 5424 message per datagram", async () => {
  const receiver = await new SyslogReceiver().startUdp();
  receivers.push(receiver);
  const ctx = await testContext();
  const sink = createSyslogSink(
    syslogSinkSchema.parse({
      type: "syslog",
      protocol: "udp",
      host: "127.0.0.1",
      port: receiver.port,
      appName: "web",
    }),
    ctx,
  );
  await sink.write(testEvents(3));
  await eventually(() => receiver.messages.length === 3);
  assert.match(receiver.messages[0]!, /^<14>1 2024-01-01T00:00:00\.000Z \S+ web - - - event 0$/);
  assert.equal(await sink.close(AbortSignal.timeout(2000)), 0);
});
