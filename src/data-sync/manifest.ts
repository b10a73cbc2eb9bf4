import { SidecarError } from "../runtime/errors.ts";
import { SyncErrorCodes } from "./error-codes.ts";

/** One file of a backed-up version; never changed once made (encodeManifest caches its JSON). */
export interface ManifestEntry {
  /** Relative to the data directory, `/`-separated. */
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
  /** Hex SHA-256 of the content; the object is stored under this name. */
  readonly sha256: string;
  /** Permission bits. */
  readonly mode: number;
  /** When the file was seen deleted from the data directory (`deletes: keep`); not restored by default. */
  readonly deletedAt?: string;
}

/** One version of the data directory at the target: what was there, and where its content is. */
export interface Manifest {
  format: 1;
  /** 1, 2, 3…: one more than the version it was built from. */
  version: number;
  createdAt: string;
  files: ManifestEntry[];
}

/** Where the newest manifest is copied last, so a reader finds it with one request. */
export const latestManifestKey = "manifest.json";

/**
 * The key of a version under manifests/: version and creation time (ms), zero-padded so keys
 * sort by version and a point in time is found from a listing alone.
 */
export function manifestKey(manifest: Pick<Manifest, "version" | "createdAt">): string {
  const time = Date.parse(manifest.createdAt);
  return `manifests/${String(manifest.version).padStart(12, "0")}-${String(time).padStart(13, "0")}.json`;
}

/** The version and time a manifests/ key names, or undefined for other keys. */
export function parseManifestKey(
  key: string,
): { version: number; createdAtMs: number } | undefined {
  const match = /^manifests\/(\d{12})-(\d{13})\.json$/.exec(key);
  return match ? { version: Number(match[1]), createdAtMs: Number(match[2]) } : undefined;
}

/** The key of the object holding content with this SHA-256. */
export function objectKey(sha256: string): string {
  return `objects/${sha256.slice(0, 2)}/${sha256}`;
}

/**
 * Each entry's JSON, kept while the entry is: a pass carries most entries over unchanged (the
 * same objects), so it encodes only what changed (10 000 entries: ~15 ms whole, ~1 ms this way).
 */
const entryJson = new WeakMap<ManifestEntry, string>();

/** The manifest as JSON and a newline: the same bytes as `JSON.stringify(manifest)`, built from each entry's cached JSON. */
export function encodeManifest(manifest: Manifest): string {
  const fields: string[] = [];
  for (const [name, value] of Object.entries(manifest)) {
    if (value === undefined) continue;
    if (name !== "files") {
      fields.push(`${JSON.stringify(name)}:${JSON.stringify(value)}`);
      continue;
    }
    const files = (value as ManifestEntry[]).map((entry) => {
      let json = entryJson.get(entry);
      if (json === undefined) {
        json = JSON.stringify(entry);
        entryJson.set(entry, json);
      }
      return json;
    });
    fields.push(`"files":[${files.join(",")}]`);
  }
  return `{${fields.join(",")}}\n`;
}

const hex64 = /^[0-9a-f]{64}$/;

/** Parses and checks a manifest; throws SIDECAR_ERR_SYNC_MANIFEST naming `where` when it is not one. */
export function parseManifest(text: string, where: string): Manifest {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new SidecarError(SyncErrorCodes.MANIFEST, `Cannot parse manifest "${where}": not JSON`, {
      cause: error,
    });
  }
  const fail = (detail: string): never => {
    throw new SidecarError(SyncErrorCodes.MANIFEST, `Invalid manifest "${where}": ${detail}`);
  };
  const manifest = value as Partial<Manifest>;
  if (!manifest || typeof manifest !== "object") return fail("not an object");
  if (manifest.format !== 1) return fail(`unknown format ${JSON.stringify(manifest.format)}`);
  if (!Number.isInteger(manifest.version) || (manifest.version as number) < 1)
    return fail("bad version");
  if (typeof manifest.createdAt !== "string") return fail("bad createdAt");
  if (!Array.isArray(manifest.files)) return fail("files is not a list");
  for (const entry of manifest.files) {
    if (
      typeof entry?.path !== "string" ||
      entry.path.startsWith("/") ||
      entry.path.split("/").some((part) => part === ".." || part === "." || part === "") ||
      !Number.isSafeInteger(entry.size) ||
      typeof entry.sha256 !== "string" ||
      !hex64.test(entry.sha256)
    )
      return fail(`bad entry ${JSON.stringify(entry?.path)}`);
  }
  return manifest as Manifest;
}

/** Files and bytes a manifest holds (deleted-but-kept files excluded). */
export function manifestTotals(manifest: Manifest | undefined): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  for (const entry of manifest?.files ?? []) {
    if (entry.deletedAt) continue;
    files += 1;
    bytes += entry.size;
  }
  return { files, bytes };
}
