import type { z } from "zod";

type Issue = z.core.$ZodIssue;
type RawIssue = z.core.$ZodRawIssue;

/** Zod's messages reworded as "expected …" for the per-parse error map. */
export function expectedMessage(issue: RawIssue): string | undefined {
  switch (issue.code) {
    case "invalid_type":
      return issue.input === undefined ? "required" : `expected ${issue.expected}`;
    case "too_small":
      return `expected ${subject(issue.origin)} ${issue.inclusive === false ? ">" : "≥"} ${String(issue.minimum)}`;
    case "too_big":
      return `expected ${subject(issue.origin)} ${issue.inclusive === false ? "<" : "≤"} ${String(issue.maximum)}`;
    case "invalid_value":
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`;
    case "invalid_format":
      return `expected ${issue.format === "regex" ? `text matching ${String(issue.pattern)}` : issue.format}`;
    case "not_multiple_of":
      return `expected a multiple of ${String(issue.divisor)}`;
    default:
      return undefined;
  }
}

function subject(origin: string): string {
  switch (origin) {
    case "string":
      return "length";
    case "array":
    case "set":
      return "item count";
    default:
      return origin;
  }
}

/** How an offending value is shown after "got". */
export function renderInput(input: unknown): string {
  if (input === undefined) return "nothing";
  if (input === null) return "null";
  if (Array.isArray(input)) return "a list";
  if (typeof input === "object") return "a mapping";
  if (typeof input === "string")
    return JSON.stringify(input.length > 60 ? `${input.slice(0, 57)}...` : input);
  return String(input);
}

/** `proxy.routes[2].timeout` */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? String(key) : `.${String(key)}`;
  }
  return out === "" ? "(top level)" : out;
}

export function issueText(issue: Issue): string {
  const input = (issue as { input?: unknown }).input;
  if (issue.code === "invalid_type" && input === undefined) return "required";
  const withGot =
    issue.code !== "unrecognized_keys" &&
    !(issue.code === "invalid_type" && input === undefined) &&
    !issue.message.includes(", got ");
  return withGot ? `${issue.message}, got ${renderInput(input)}` : issue.message;
}
