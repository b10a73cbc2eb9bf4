/**
 * The exports of a CommonJS package loaded with `import()`. Run from the sources, Node gives its
 * named exports at the top level; in the split bundle the package's chunk has only a default
 * export (its `module.exports`). `probe` names an export the caller needs.
 */
export function commonJsExports<T extends object>(loaded: T, probe: keyof T & string): T {
  if (probe in loaded) return loaded;
  const moduleExports = (loaded as { default?: unknown }).default;
  if (typeof moduleExports === "object" && moduleExports !== null && probe in moduleExports)
    return moduleExports as T;
  throw new TypeError(`the loaded module has no export "${probe}"`);
}
