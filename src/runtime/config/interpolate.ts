/**
 * `${VAR}` and `${VAR:-default}` interpolation of one string. `$${` escapes a literal `${`.
 * Returns the result and the names of variables that are unset and have no default.
 *
 * @example
 * interpolate("http://${HOST:-127.0.0.1}:8080", { }).value // "http://127.0.0.1:8080"
 */
export interface InterpolationResult {
  value: string;
  missing: string[];
}

const reference = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export function interpolate(
  text: string,
  env: Readonly<Record<string, string | undefined>>,
): InterpolationResult {
  const missing: string[] = [];
  const value = text.replace(reference, (match, name: string | undefined, fallback?: string) => {
    if (match === "$${") return "${";
    const found = env[name!];
    if (found !== undefined && found !== "") return found;
    if (fallback !== undefined) return fallback;
    if (found === "") return "";
    missing.push(name!);
    return match;
  });
  return { value, missing };
}

/** Whether the text holds any `${…}` reference (or escape) worth interpolating. */
export function hasReference(text: string): boolean {
  return text.includes("${");
}

const intPattern = /^[-+]?(?:0|[1-9][0-9]*)$/;
const floatPattern = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$/;

/**
 * Types an interpolated value the way YAML would have typed it had it been written
 * in the file unquoted: `8080` → number, `true` → boolean. Quoted scalars stay strings.
 */
export function typePlainScalar(value: string): string | number | boolean | null {
  if (intPattern.test(value) || floatPattern.test(value)) return Number(value);
  if (value === "true" || value === "True" || value === "TRUE") return true;
  if (value === "false" || value === "False" || value === "FALSE") return false;
  if (value === "null" || value === "~" || value === "") return null;
  return value;
}
