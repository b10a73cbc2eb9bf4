import { createHash } from "node:crypto";
import type { LogEvent } from "../../log-event.ts";
import { eventJsonText } from "../service/event-json.ts";
import type { SendOutcome } from "../service/send-outcome.ts";

/** The index of an event: `%Y`, `%m`, `%d` in the name take the event's UTC date. */
export function indexName(pattern: string, timestamp: number): string {
  if (!pattern.includes("%")) return pattern;
  const d = new Date(timestamp);
  const pad = (n: number) => String(n).padStart(2, "0");
  return pattern
    .replaceAll("%Y", String(d.getUTCFullYear()))
    .replaceAll("%m", pad(d.getUTCMonth() + 1))
    .replaceAll("%d", pad(d.getUTCDate()));
}

/**
 * A document id from where the event was read and what it says, so an event read again after a
 * restart gets the same id and is not stored twice (`create` answers 409 for it).
 */
export function documentId(event: LogEvent): string {
  return createHash("sha256")
    .update(
      `${event.position.streamId}\u0000${event.position.offset}\u0000${event.timestamp}\u0000`,
    )
    .update(event.message)
    .digest("base64url")
    .slice(0, 27);
}

/** A `_bulk` body: an action line and a document line per event, each ending in a newline. */
export function encodeBulk(
  events: readonly LogEvent[],
  index: string,
  action: "create" | "index",
  idempotentIds = false,
): string {
  let out = "";
  for (const event of events) {
    const meta: { _index: string; _id?: string } = { _index: indexName(index, event.timestamp) };
    if (idempotentIds) meta._id = documentId(event);
    out += `${JSON.stringify({ [action]: meta })}\n`;
    out += `${eventJsonText(event, "@timestamp")}\n`;
  }
  return out;
}

interface BulkItem {
  status?: number;
  error?: { type?: string; reason?: string } | string;
}

/**
 * Reads a `_bulk` response that came with HTTP 2xx: when `errors` is true, items with 429 or 5xx
 * are retried and other failures (mapping errors…) rejected; everything else was indexed.
 */
export function outcomeOfBulk(text: string, count: number, conflictIsDone = false): SendOutcome {
  let parsed: { errors?: boolean; items?: Record<string, BulkItem>[] };
  try {
    parsed = JSON.parse(text);
  } catch {
    return { kind: "retry", reason: "unreadable _bulk response" };
  }
  if (!parsed.errors) return { kind: "delivered" };
  const items = parsed.items ?? [];
  if (items.length !== count)
    return {
      kind: "retry",
      reason: `_bulk response has ${items.length} items for ${count} events`,
    };
  const retry: number[] = [];
  const rejected: { index: number; reason: string }[] = [];
  let retryReason: string | undefined;
  items.forEach((item, index) => {
    const result = Object.values(item)[0] ?? {};
    const status = result.status ?? 0;
    if (status >= 200 && status < 300) return;
    if (status === 409 && conflictIsDone) return; // already stored by an earlier attempt
    const error =
      typeof result.error === "string"
        ? result.error
        : `${result.error?.type ?? "error"}: ${result.error?.reason ?? ""}`;
    const reason = `item status ${status}: ${error}`.slice(0, 300);
    if (status === 429 || status >= 500 || status === 0) {
      retry.push(index);
      retryReason ??= reason;
    } else rejected.push({ index, reason });
  });
  return retryReason === undefined
    ? { kind: "partial", retry, rejected }
    : { kind: "partial", retry, rejected, retryReason };
}
