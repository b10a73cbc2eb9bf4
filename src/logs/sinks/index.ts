import { elasticsearchSink } from "./elasticsearch/index.ts";
import { fileSink } from "./file/index.ts";
import { httpSink } from "./http/index.ts";
import { lokiSink } from "./loki/index.ts";
import { stdoutSink } from "./stdout/index.ts";
import { syslogSink } from "./syslog/index.ts";

export { LogsSinkErrorCodes } from "./error-codes.ts";

/**
 * Every sink component (composed into a discriminated union on `type` by the logs config).
 * A built sink's `write` resolves once each event is delivered or dead-lettered; `close(deadline)`
 * resolves with the number of events left unsent.
 */
export const sinkComponents = [
  stdoutSink,
  fileSink,
  httpSink,
  lokiSink,
  elasticsearchSink,
  syslogSink,
] as const;

export type SinkType = (typeof sinkComponents)[number]["type"];
