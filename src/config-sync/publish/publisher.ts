import { createHash } from "node:crypto";

/** One file of a version, relative to the output directory. */
export interface PublishFile {
  path: string;
  data: Buffer;
  mode: number;
}

/** A version written to disk but not yet visible to the app: checks run on it, then commit or discard. */
export interface StagedVersion {
  /** Where the staged copy of `path` is (check commands read it there). */
  fileFor(path: string): string;
  /** The directory the staged version lives in (`{dir}` of a check command). */
  readonly dir: string;
  /** Makes the version the app sees, in one step for the versioned layout. */
  commit(): Promise<void>;
  /** Removes the staged files. */
  discard(): Promise<void>;
}

/** Writes versions of the outputs into the output directory. */
export interface Publisher {
  /** The hash of what the output directory holds now (from an earlier run), or undefined. */
  currentHash(paths: readonly string[]): Promise<string | undefined>;
  stage(files: readonly PublishFile[]): Promise<StagedVersion>;
  /** The directory the app reads the current version from (the version directory, or outputDir). */
  readonly currentDir: string | undefined;
}

/** A short hash of a version: every file's path, mode and bytes, in path order. */
export function versionHash(files: readonly PublishFile[]): string {
  const hash = createHash("sha256");
  for (const file of [...files].sort((a, b) => (a.path < b.path ? -1 : 1))) {
    hash.update(`${file.path.length}:${file.path}:${file.mode.toString(8)}:${file.data.length}:`);
    hash.update(file.data);
  }
  return hash.digest("hex").slice(0, 16);
}
