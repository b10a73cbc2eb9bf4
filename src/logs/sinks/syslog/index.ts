import { hostname } from "node:os";
import { z } from "zod";
import { type ComponentContext, defineComponent } from "../../../runtime/component.ts";
import { portSchema, seconds } from "../../../runtime/config/schema-helpers.ts";
import type { Sink } from "../../log-event.ts";
import { BatchedSink, type SendBatch } from "../service/batched-sink.ts";
import { encodeBatch } from "../service/send-outcome.ts";
import { serviceConfigShape } from "../service/service-config.ts";
import { createSyslogFormatter, createSyslogFramer, type Facility, facilities } from "./encoder.ts";
import { TcpTransport, UdpTransport } from "./transport.ts";

export const syslogSinkSchema = z.strictObject({
  type: z.literal("syslog"),
  host: z.string().min(1),
  port: portSchema.default(514),
  protocol: z.enum(["tcp", "udp"]).default("tcp"),
  /** TCP framing: RFC 6587 octet counting (default) or one message per line (newlines become spaces). */
  framing: z.enum(["octet-counting", "newline"]).default("octet-counting"),
  facility: z.enum(Object.keys(facilities) as [Facility, ...Facility[]]).default("user"),
  /** HOSTNAME; default this machine's host name (the pod name in Kubernetes). */
  hostname: z.string().min(1).optional(),
  appName: z.string().min(1).default("sidecar"),
  procId: z.string().min(1).optional(),
  msgId: z.string().min(1).optional(),
  /** Send the event's fields as structured data with this SD-ID, e.g. `fields@32473`. */
  structuredDataId: z
    .string()
    .regex(/^[\x21-\x7e]+$/)
    .refine((id) => !/[= \]"]/.test(id), { error: 'expected an SD-ID without =, space, ] or "' })
    .optional(),
  /** UDP datagrams longer than this are cut. */
  maxMessageBytes: z.number().int().min(480).max(65_000).default(8192),
  timeoutSeconds: seconds(10, { min: 0.001 }),
  ...serviceConfigShape({ maxInFlight: 1 }),
});
export type SyslogSinkConfig = z.infer<typeof syslogSinkSchema>;

/**
 * RFC 5424 syslog over TCP (octet counting, RFC 6587) or UDP. The level sets the severity.
 * Batches go out in order over one connection (maxInFlight is 1 for TCP so order is kept).
 *
 * @example
 * createSyslogSink(syslogSinkSchema.parse({ type: "syslog", host: "syslog.example", port: 601 }), ctx);
 */
export function createSyslogSink(config: SyslogSinkConfig, ctx: ComponentContext): Sink {
  const options = { host: config.host, port: config.port, timeoutMs: config.timeoutSeconds * 1000 };
  const encoder = { ...config, hostname: config.hostname ?? hostname() };
  let send: SendBatch;
  let transport: TcpTransport | UdpTransport;
  if (config.protocol === "tcp") {
    const tcp = new TcpTransport(options);
    const frame = createSyslogFramer(encoder, config.framing);
    send = async (events, signal) => {
      await tcp.send(
        encodeBatch(() => frame(events)),
        signal,
      );
      return { kind: "delivered" };
    };
    transport = tcp;
  } else {
    const udp = new UdpTransport({ ...options, maxMessageBytes: config.maxMessageBytes });
    const format = createSyslogFormatter(encoder);
    send = async (events) => {
      await udp.send(encodeBatch(() => events.map(format)));
      return { kind: "delivered" };
    };
    transport = udp;
  }
  return new BatchedSink(
    { ...config, maxInFlight: config.protocol === "tcp" ? 1 : config.maxInFlight },
    ctx,
    { type: "syslog", send, onClose: () => transport.close() },
  );
}

export const syslogSink = defineComponent({
  type: "syslog",
  schema: syslogSinkSchema,
  build: (config, ctx) => createSyslogSink(config, ctx),
});
