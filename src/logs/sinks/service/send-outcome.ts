/**
 * What one attempt to send a batch came to, as a sink's service reports it:
 * - delivered: every event is accepted;
 * - retry: nothing is accepted and it may work later (connection error, timeout, 429, 5xx);
 * - reject: nothing is accepted and never will be (4xx other than 429): dead-lettered;
 * - partial: some items failed (Elasticsearch `_bulk`): `retry` are the indexes to send again,
 *   `rejected` the permanently bad ones; every other index was delivered.
 */
export type SendOutcome =
  | { kind: "delivered" }
  | { kind: "retry"; reason: string; retryAfterMs?: number | undefined }
  | { kind: "reject"; reason: string }
  | {
      kind: "partial";
      retry: number[];
      rejected: { index: number; reason: string }[];
      retryReason?: string;
    };

/** Sorts an HTTP status into an outcome: 2xx delivered, 429/5xx/408 retry, other 4xx reject. */
export function outcomeOfStatus(
  status: number,
  detail: string,
  retryAfterMs?: number,
): SendOutcome {
  if (status >= 200 && status < 300) return { kind: "delivered" };
  const reason = `HTTP ${status}${detail ? `: ${detail}` : ""}`;
  if (status === 429 || status === 408 || status >= 500)
    return { kind: "retry", reason, retryAfterMs };
  return { kind: "reject", reason };
}

/**
 * Thrown by a sink's send when a batch can never be sent as it is (it cannot be encoded): the
 * batch is dead-lettered instead of retried forever.
 */
export class PermanentSendError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PermanentSendError";
  }
}

/** Runs a sink's encoder; a throw (a value JSON cannot hold) becomes a PermanentSendError. */
export function encodeBatch<T>(encode: () => T): T {
  try {
    return encode();
  } catch (error) {
    throw new PermanentSendError(
      `Cannot encode the batch: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
}

/** A thrown send error as a short reason, with its cause (fetch says "fetch failed" and puts ECONNREFUSED in `cause`). */
export function failureReason(error: unknown): string {
  const text = (e: unknown) => {
    if (!(e instanceof Error)) return String(e);
    const code = (e as NodeJS.ErrnoException).code;
    return code && !e.message.includes(code) ? `${code}: ${e.message}` : e.message;
  };
  const cause = error instanceof Error ? error.cause : undefined;
  return cause === undefined ? text(error) : `${text(error)}: ${text(cause)}`;
}
