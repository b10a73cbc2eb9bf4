import { z } from "zod";
import { seconds } from "../../../runtime/config/schema-helpers.ts";

/** Batching: a batch is sent when it reaches maxEvents or maxBytes, or is maxAgeSeconds old. */
export const batchSchema = z
  .strictObject({
    maxEvents: z.number().int().min(1).default(1000),
    maxBytes: z
      .number()
      .int()
      .min(1)
      .default(1024 * 1024),
    maxAgeSeconds: seconds(1, { min: 0.001 }),
  })
  .prefault({});

/** Retries of retryable failures (connection errors, timeouts, 429, 5xx), with exponential backoff and jitter. */
export const retrySchema = z
  .strictObject({
    initialBackoffSeconds: seconds(0.5, { min: 0.001 }),
    maxBackoffSeconds: seconds(60, { min: 0.001 }),
    /** After this many retries a batch is dead-lettered; unset = retry until delivered or shut down. */
    maxRetries: z.number().int().min(0).optional(),
    /** A `Retry-After` longer than this is cut to it. */
    maxRetryAfterSeconds: seconds(300),
  })
  .prefault({});

export const deadLetterSchema = z
  .strictObject({
    /** JSON-lines file; default `<stateDir>/dead-letter/<sink name>.jsonl`. */
    path: z.string().min(1).optional(),
    /** Past this size, rejected events are counted and logged but no longer written. */
    maxBytes: z
      .number()
      .int()
      .min(1)
      .default(100 * 1024 * 1024),
  })
  .prefault({});

/** What every sink's service shares; spread into each sink's strict schema. */
export function serviceConfigShape({ maxInFlight = 4 }: { maxInFlight?: number } = {}) {
  return {
    /** The sink's name in metrics and logs; default its type. */
    name: z
      .string()
      .regex(/^[a-zA-Z0-9_.-]+$/)
      .optional(),
    batch: batchSchema,
    retry: retrySchema,
    /** Batches sent at the same time. */
    maxInFlight: z.number().int().min(1).max(64).default(maxInFlight),
    deadLetter: deadLetterSchema,
  };
}

export interface ServiceConfig {
  name?: string | undefined;
  batch: z.infer<typeof batchSchema>;
  retry: z.infer<typeof retrySchema>;
  maxInFlight: number;
  deadLetter: z.infer<typeof deadLetterSchema>;
}
