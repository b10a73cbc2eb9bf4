import picomatch from "picomatch";

/** Names at the top of the data directory that the sync itself uses (restore temp dirs, markers). */
export const internalPrefix = ".sidecar-";

/**
 * Whether a relative path (`/`-separated) is synced: it matches one include and no exclude.
 * Dotfiles match like any file; a pattern without `/` matches the file name at any depth
 * (`*.tmp` excludes `a/b/c.tmp`), as in .gitignore.
 *
 * @example
 * const filter = pathFilter(["**"], ["*.tmp", "cache/**"]);
 * filter("db/app.sqlite"); // true
 */
export function pathFilter(
  include: readonly string[],
  exclude: readonly string[],
): (path: string) => boolean {
  const compile = (patterns: readonly string[]) => {
    const matchers = patterns.map((pattern) =>
      picomatch(pattern, { dot: true, matchBase: !pattern.includes("/") }),
    );
    return (path: string) => matchers.some((match) => match(path));
  };
  const included = compile(include);
  const excluded = compile(exclude);
  return (path) => !path.startsWith(internalPrefix) && included(path) && !excluded(path);
}
