/**
 * Timestamp formats a parser can read:
 * - "auto": RFC 3339 / ISO 8601 strings (any fraction digits), or epoch numbers (s, ms, µs or ns
 *   guessed from the magnitude);
 * - "rfc3339": RFC 3339 strings with up to nanosecond digits (kept to the millisecond);
 * - "unix", "unix_ms", "unix_us", "unix_ns": epoch numbers or numeric strings;
 * - a strftime-like pattern with %Y %m %d %H %M %S %L (ms) %f (fraction digits) %z (±hh:mm, ±hhmm, Z)
 *   %b (Jan…Dec) and %% — without %z the time is taken as UTC.
 */
export type TimestampFormat = string;

const rfc3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?([Zz]|[+-]\d{2}:?\d{2})?$/;

function offsetMinutes(zone: string | undefined): number {
  if (!zone || zone === "Z" || zone === "z") return 0;
  const sign = zone.startsWith("-") ? -1 : 1;
  const digits = zone.slice(1).replace(":", "");
  return sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4)));
}

function fromParts(
  parts: { y: number; mo: number; d: number; h: number; mi: number; s: number },
  fraction: string | undefined,
  zone: string | undefined,
): number | undefined {
  const { y, mo, d, h, mi, s } = parts;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return undefined;
  const ms = fraction ? Math.floor(Number(`0.${fraction}`) * 1000) : 0;
  const utc = Date.UTC(y, mo - 1, d, h, mi, s, ms);
  return Number.isNaN(utc) ? undefined : utc - offsetMinutes(zone) * 60_000;
}

const rfc3339Rest = /^(?:[.,](\d+))?([Zz]|[+-]\d{2}:?\d{2})?$/;
let cachedSecondText = "";
let cachedSecondMs = 0;

function parseRfc3339(text: string): number | undefined {
  // Fast path: lines of a file share their time up to the second; parse only what follows.
  if (text.length >= 20 && text.startsWith(cachedSecondText) && cachedSecondText !== "") {
    const rest = rfc3339Rest.exec(text.slice(19));
    if (rest) {
      const ms = rest[1] ? Math.floor(Number(`0.${rest[1]}`) * 1000) : 0;
      return cachedSecondMs + ms - offsetMinutes(rest[2]) * 60_000;
    }
  }
  const m = rfc3339.exec(text.trim());
  if (m && text.length >= 19 && text === text.trim()) {
    const second = fromParts(
      { y: +m[1]!, mo: +m[2]!, d: +m[3]!, h: +m[4]!, mi: +m[5]!, s: +m[6]! },
      undefined,
      undefined,
    );
    if (second !== undefined) {
      cachedSecondText = text.slice(0, 19);
      cachedSecondMs = second;
    }
  }
  if (!m) return undefined;
  return fromParts(
    { y: +m[1]!, mo: +m[2]!, d: +m[3]!, h: +m[4]!, mi: +m[5]!, s: +m[6]! },
    m[7],
    m[8],
  );
}

function epoch(value: unknown, scale: number | "guess"): number | undefined {
  const n = typeof value === "number" ? value : typeof value === "string" ? Number(value) : NaN;
  if (!Number.isFinite(n) || (typeof value === "string" && value.trim() === "")) return undefined;
  if (scale !== "guess") return Math.floor(n * scale);
  const abs = Math.abs(n);
  if (abs >= 1e17) return Math.floor(n / 1e6); // ns
  if (abs >= 1e14) return Math.floor(n / 1e3); // µs
  if (abs >= 1e11) return Math.floor(n); // ms
  return Math.floor(n * 1000); // s
}

const months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const patternCache = new Map<string, { regex: RegExp; keys: string[] }>();

function compilePattern(format: string): { regex: RegExp; keys: string[] } {
  const cached = patternCache.get(format);
  if (cached) return cached;
  const keys: string[] = [];
  const pieces: Record<string, string> = {
    Y: "(\\d{4})",
    m: "(\\d{1,2})",
    d: "(\\d{1,2})",
    H: "(\\d{1,2})",
    M: "(\\d{2})",
    S: "(\\d{2})",
    L: "(\\d{3})",
    f: "(\\d+)",
    z: "(Z|z|[+-]\\d{2}:?\\d{2})",
    b: "([A-Za-z]{3})",
  };
  let source = "";
  for (let i = 0; i < format.length; i++) {
    const c = format[i]!;
    if (c === "%" && i + 1 < format.length) {
      const k = format[++i]!;
      if (k === "%") source += "%";
      else if (pieces[k]) {
        keys.push(k);
        source += pieces[k];
      } else throw new RangeError(`Unknown timestamp directive "%${k}" in "${format}"`);
    } else source += c.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }
  const compiled = { regex: new RegExp(`^${source}$`), keys };
  patternCache.set(format, compiled);
  return compiled;
}

/** Throws a RangeError when `format` is not a known name nor a valid pattern (for config checks). */
export function checkTimestampFormat(format: TimestampFormat): void {
  if (!["auto", "rfc3339", "unix", "unix_ms", "unix_us", "unix_ns"].includes(format))
    compilePattern(format);
}

/**
 * Parses a timestamp in the given format to ms since the epoch; undefined when it does not match.
 *
 * @example
 * parseTimestamp("2016-10-06T00:17:09.669794202Z", "rfc3339"); // 1475712429669
 * parseTimestamp("06/Oct/2016:00:17:09 +0000", "%d/%b/%Y:%H:%M:%S %z");
 */
export function parseTimestamp(
  value: unknown,
  format: TimestampFormat = "auto",
): number | undefined {
  const time = parseAny(value, format);
  // Beyond ±8.64e15 ms a Date is invalid (toISOString throws): treat it as no time at all.
  return time !== undefined && Math.abs(time) <= 8.64e15 ? time : undefined;
}

function parseAny(value: unknown, format: TimestampFormat): number | undefined {
  switch (format) {
    case "auto":
      return typeof value === "string" && !/^\s*-?[\d.]+\s*$/.test(value)
        ? parseRfc3339(value)
        : epoch(value, "guess");
    case "rfc3339":
      return typeof value === "string" ? parseRfc3339(value) : undefined;
    case "unix":
      return epoch(value, 1000);
    case "unix_ms":
      return epoch(value, 1);
    case "unix_us":
      return epoch(value, 1e-3);
    case "unix_ns":
      return epoch(value, 1e-6);
  }
  if (typeof value !== "string") return undefined;
  const { regex, keys } = compilePattern(format);
  const m = regex.exec(value.trim());
  if (!m) return undefined;
  const got: Record<string, string> = {};
  keys.forEach((k, i) => {
    got[k] = m[i + 1]!;
  });
  const mo = got.b ? months.indexOf(got.b.toLowerCase()) + 1 : Number(got.m ?? 1);
  return fromParts(
    {
      y: Number(got.Y ?? 1970),
      mo,
      d: Number(got.d ?? 1),
      h: Number(got.H ?? 0),
      mi: Number(got.M ?? 0),
      s: Number(got.S ?? 0),
    },
    got.L ?? got.f,
    got.z,
  );
}
