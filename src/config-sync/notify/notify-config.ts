import { z } from "zod";
import { seconds } from "../../runtime/config/schema-helpers.ts";

/** Signals an app commonly reloads on. */
export const reloadSignalSchema = z.enum([
  "SIGHUP",
  "SIGUSR1",
  "SIGUSR2",
  "SIGWINCH",
  "SIGQUIT",
  "SIGTERM",
  "SIGINT",
]);

const httpNotifySchema = z.strictObject({
  type: z.literal("http"),
  /** e.g. `http://127.0.0.1:9090/-/reload`; userinfo is sent as basic auth and never logged. */
  url: z.url({ protocol: /^https?$/ }),
  method: z.enum(["GET", "POST", "PUT"]).default("POST"),
  /** Statuses that count as done; default any 2xx. */
  expectStatus: z.array(z.number().int().min(100).max(599)).min(1).optional(),
  headers: z.record(z.string(), z.string()).default({}),
  /** Per attempt. */
  timeoutSeconds: seconds(5, { min: 0.1 }),
  /** Retries with backoff while the app is not answering yet (starting, restarting). */
  retry: z
    .strictObject({
      initialSeconds: seconds(0.2, { min: 0.01 }),
      maxSeconds: seconds(10, { min: 0.01 }),
      /** Give up on this version's notification after this long (a newer version starts over). */
      giveUpAfterSeconds: seconds(300),
    })
    .prefault({}),
});

const signalNotifySchema = z.strictObject({
  type: z.literal("signal"),
  signal: reloadSignalSchema.default("SIGHUP"),
  /**
   * In a Pod with `shareProcessNamespace: true`: every process whose name (`/proc/PID/comm`) or
   * command's base name is this. Not needed in `sidecar run`, where the app is signalled.
   */
  processName: z.string().min(1).optional(),
  /** While no such process runs (the app is starting or restarting), retried with backoff for this long. */
  giveUpAfterSeconds: seconds(30),
});

const commandNotifySchema = z.strictObject({
  type: z.literal("command"),
  /** Run without a shell; gets SIDECAR_CONFIG_VERSION and SIDECAR_CONFIG_DIR in its environment. */
  command: z.array(z.string().min(1)).min(1),
  timeoutSeconds: seconds(30, { min: 0.1 }),
});

const restartNotifySchema = z.strictObject({
  /** Restart the app (only in `sidecar run`): for apps that read their config only at start. */
  type: z.literal("restart"),
});

export const notifyConfigSchema = z.discriminatedUnion("type", [
  httpNotifySchema,
  signalNotifySchema,
  commandNotifySchema,
  restartNotifySchema,
]);
export type NotifyConfig = z.infer<typeof notifyConfigSchema>;
export type HttpNotifyConfig = z.infer<typeof httpNotifySchema>;
export type SignalNotifyConfig = z.infer<typeof signalNotifySchema>;
export type CommandNotifyConfig = z.infer<typeof commandNotifySchema>;
