/**
 * Reads an HTTP `Retry-After` (seconds or an HTTP date) as milliseconds from `now`; undefined
 * when absent or unreadable.
 *
 * @example
 * parseRetryAfter("3", Date.now()); // 3000
 */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
