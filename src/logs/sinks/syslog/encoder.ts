import type { LogEvent } from "../../log-event.ts";
import { ByteWriter } from "../service/byte-writer.ts";
import { isoTime } from "../service/event-json.ts";

export const facilities = {
  kern: 0,
  user: 1,
  mail: 2,
  daemon: 3,
  auth: 4,
  syslog: 5,
  lpr: 6,
  news: 7,
  uucp: 8,
  cron: 9,
  authpriv: 10,
  ftp: 11,
  local0: 16,
  local1: 17,
  local2: 18,
  local3: 19,
  local4: 20,
  local5: 21,
  local6: 22,
  local7: 23,
} as const;
export type Facility = keyof typeof facilities;

const severities: Record<string, number> = {
  fatal: 2,
  error: 3,
  warn: 4,
  info: 6,
  debug: 7,
  trace: 7,
};

export interface SyslogEncoderOptions {
  facility: Facility;
  hostname: string;
  appName: string;
  procId?: string | undefined;
  msgId?: string | undefined;
  /** Put the event's fields in a structured-data element with this SD-ID (e.g. `fields@32473`). */
  structuredDataId?: string | undefined;
}

/** PRINTUSASCII only, cut to `max`, NILVALUE `-` when empty (RFC 5424 §6). */
function headerField(value: string | undefined, max: number): string {
  if (!value) return "-";
  const clean = value.replace(/[^\x21-\x7e]/g, "_").slice(0, max);
  return clean || "-";
}

function sdValue(value: unknown): string {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.replace(/[\\"\]]/g, (c) => `\\${c}`);
}

function sdName(name: string): string {
  return name.replace(/[^\x21-\x7e]|[= \]"]/g, "_").slice(0, 32) || "_";
}

/**
 * Formats RFC 5424 messages: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD MSG`, the
 * severity from the event's level (info when unknown). The fixed header fields are cleaned once.
 *
 * @example
 * createSyslogFormatter({ facility: "user", hostname: "web-1", appName: "app" })(event);
 * // "<14>1 2024-01-01T00:00:00.000Z web-1 app - - - hello"
 */
export function createSyslogFormatter(options: SyslogEncoderOptions): (event: LogEvent) => string {
  const header = createHeader(options);
  return (event) => (event.message === "" ? header(event) : `${header(event)} ${event.message}`);
}

/** The message up to MSG (without the space before it). */
function createHeader(options: SyslogEncoderOptions): (event: LogEvent) => string {
  const facility = facilities[options.facility] * 8;
  const fixed = ` ${headerField(options.hostname, 255)} ${headerField(options.appName, 48)} ${headerField(options.procId, 128)} ${headerField(options.msgId, 32)} `;
  const sdId = options.structuredDataId;
  return (event) => {
    const pri = facility + (severities[event.level ?? "info"] ?? 6);
    let sd = "-";
    if (sdId) {
      sd = `[${sdId}`;
      for (const key in event.fields) {
        const value = event.fields[key];
        if (value !== undefined && value !== null) sd += ` ${sdName(key)}="${sdValue(value)}"`;
      }
      sd += "]";
    }
    return `<${pri}>1 ${isoTime(event.timestamp)}${fixed}${sd}`;
  };
}

export type SyslogFraming = "octet-counting" | "newline";

/**
 * Frames a batch of messages for TCP straight into one Buffer: RFC 6587 octet counting
 * (`MSG-LEN SP SYSLOG-MSG`, the length in UTF-8 bytes) or one message per line (newlines in it
 * become spaces). Byte for byte the frames of createSyslogFormatter's messages, without the long
 * concatenated string; the header's bytes are reused while the time and level repeat (lines read
 * together share their read time) and no structured data is sent.
 *
 * @example
 * createSyslogFramer({ facility: "user", hostname: "web-1", appName: "app" }, "octet-counting")([event]);
 * // <Buffer "46 <14>1 2024-01-01T00:00:00.000Z web-1 app - - - hello">
 */
export function createSyslogFramer(
  options: SyslogEncoderOptions,
  framing: SyslogFraming,
): (events: readonly LogEvent[]) => Buffer {
  const header = createHeader(options);
  const reusable = !options.structuredDataId;
  const newline = framing === "newline";
  let headerBytes = Buffer.alloc(0);
  let time = Number.NaN;
  let level: string | undefined;
  return function frame(events) {
    const writer = new ByteWriter(events.length * 256);
    for (const event of events) {
      if (
        !reusable ||
        headerBytes.length === 0 ||
        event.timestamp !== time ||
        event.level !== level
      ) {
        const text = header(event);
        headerBytes = Buffer.from(newline ? text.replace(/\n/g, " ") : text, "utf8");
        time = event.timestamp;
        level = event.level;
      }
      let message = event.message;
      if (newline) {
        if (message.includes("\n")) message = message.replace(/\n/g, " ");
      } else {
        const length = headerBytes.length + (message === "" ? 0 : 1 + Buffer.byteLength(message));
        writer.utf8(`${length} `);
      }
      writer.bytes(headerBytes);
      if (message !== "") {
        writer.byte(0x20);
        writer.utf8(message);
      }
      if (newline) writer.byte(0x0a);
    }
    return writer.finish();
  };
}

/** One RFC 5424 message (see createSyslogFormatter). */
export function formatSyslog(event: LogEvent, options: SyslogEncoderOptions): string {
  return createSyslogFormatter(options)(event);
}

/** RFC 6587 octet counting: `MSG-LEN SP SYSLOG-MSG`, the length in UTF-8 bytes. */
export function octetCountedFrame(message: string): string {
  return `${Buffer.byteLength(message)} ${message}`;
}
