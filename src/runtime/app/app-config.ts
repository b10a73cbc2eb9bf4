import { z } from "zod";
import { portSchema, seconds } from "../config/schema-helpers.ts";

const probeTiming = {
  intervalSeconds: seconds(2, { min: 0.05 }).describe("Seconds between probes."),
  timeoutSeconds: seconds(1, { min: 0.01 }).describe("A probe that takes longer fails."),
  failureThreshold: z
    .number()
    .int()
    .min(1)
    .default(3)
    .describe("Failures in a row before the app counts as down."),
  successThreshold: z
    .number()
    .int()
    .min(1)
    .default(1)
    .describe("Successes in a row before the app counts as up."),
};

export const httpProbeSchema = z.strictObject({
  type: z.literal("http"),
  port: portSchema,
  host: z.string().default("127.0.0.1"),
  path: z.string().startsWith("/", { error: 'expected a path starting with "/"' }).default("/"),
  /** Expected status: a code (200) or a class ("2xx"). */
  expectStatus: z
    .union([z.number().int().min(100).max(599), z.string().regex(/^[1-5]xx$/)])
    .default("2xx"),
  ...probeTiming,
});

export const tcpProbeSchema = z.strictObject({
  type: z.literal("tcp"),
  port: portSchema,
  host: z.string().default("127.0.0.1"),
  ...probeTiming,
});

export const healthProbeSchema = z.discriminatedUnion("type", [httpProbeSchema, tcpProbeSchema], {
  error: 'expected type "http" or "tcp"',
});

export type HealthProbeConfig = z.infer<typeof healthProbeSchema>;

export const restartPolicySchema = z.enum(["never", "on-failure", "always"]);
export type RestartPolicy = z.infer<typeof restartPolicySchema>;

export const appConfigSchema = z
  .strictObject({
    /** How the sidecar knows the app is up. Without it the app is ready once spawned. */
    health: healthProbeSchema
      .optional()
      .describe("How the sidecar knows the app is up; without it the app is ready once spawned."),
    /** `run` fails when the app is not ready within this time. */
    startTimeoutSeconds: seconds(60, { min: 0.1 }).describe(
      "`run` fails when the app is not ready within this time.",
    ),
    /** After SIGTERM, the app gets this long before SIGKILL. */
    stopTimeoutSeconds: seconds(10).describe(
      "After SIGTERM the app gets this long before SIGKILL.",
    ),
    restart: restartPolicySchema
      .default("never")
      .describe("Restart the app when it exits: never, on-failure (non-zero code) or always."),
    restartBackoff: z
      .strictObject({
        initialSeconds: seconds(1, { min: 0.01 }),
        maxSeconds: seconds(30, { min: 0.01 }),
      })
      .default({ initialSeconds: 1, maxSeconds: 30 }),
  })
  .default({
    startTimeoutSeconds: 60,
    stopTimeoutSeconds: 10,
    restart: "never",
    restartBackoff: { initialSeconds: 1, maxSeconds: 30 },
  });

export type AppConfig = z.infer<typeof appConfigSchema>;
