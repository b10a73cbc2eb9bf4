import { SidecarError } from "../runtime/errors.ts";
import { SyncErrorCodes } from "./error-codes.ts";
import {
  encodeManifest,
  latestManifestKey,
  type Manifest,
  manifestKey,
  objectKey,
  objectOf,
  parseManifest,
  parseManifestKey,
} from "./manifest.ts";
import type { SyncTarget } from "./targets/target.ts";

/** One version the target holds, as its key names it. */
export interface VersionRef {
  key: string;
  version: number;
  createdAtMs: number;
}

/** Which versions to keep: the newest `versions`, plus all younger than `maxAgeHours` (0 = none). */
export interface RetentionPolicy {
  versions: number;
  maxAgeHours: number;
}

/**
 * The backup layout at a target: content-addressed objects (`objects/ab/ab12…`, named by their
 * SHA-256), one immutable manifest per version (`manifests/<version>-<time>.json`) and a copy of
 * the newest at `manifest.json`, written last. A version is visible only once every object it
 * names is stored, so a reader always sees a complete version.
 *
 * @example
 * const repo = new Repository(target);
 * const latest = await repo.latest();
 */
export class Repository {
  readonly target: SyncTarget;
  /** SHA-256s each version names, by manifest key (manifests never change, so this never goes stale). */
  readonly #objectsByKey = new Map<string, Set<string>>();

  constructor(target: SyncTarget) {
    this.target = target;
  }

  /** The newest version, or undefined when the target holds none. */
  async latest(): Promise<Manifest | undefined> {
    const text = await this.target.getText(latestManifestKey);
    const pointer = text === undefined ? undefined : parseManifest(text, latestManifestKey);
    // manifest.json is written after manifests/<v>; a crash between the two leaves it one behind.
    const versions = await this.versions();
    const newest = versions.at(-1);
    if (newest && (!pointer || newest.version > pointer.version)) return this.load(newest);
    // manifest.json is a copy of its version's manifest: what it names need not be read again.
    if (pointer) this.#remember(manifestKey(pointer), pointer);
    return pointer;
  }

  /** Every version, oldest first. */
  async versions(): Promise<VersionRef[]> {
    const refs: VersionRef[] = [];
    for (const object of await this.target.list("manifests/", { sizes: false })) {
      const parsed = parseManifestKey(object.key);
      if (parsed) refs.push({ key: object.key, ...parsed });
    }
    return refs.sort((a, b) => a.version - b.version);
  }

  async load(ref: VersionRef): Promise<Manifest> {
    const text = await this.target.getText(ref.key);
    if (text === undefined)
      throw new SidecarError(
        SyncErrorCodes.MANIFEST,
        `Manifest "${ref.key}" is missing at the target`,
      );
    const manifest = parseManifest(text, ref.key);
    this.#remember(ref.key, manifest);
    return manifest;
  }

  /** The newest version created at or before `time`, or undefined. */
  async at(time: number): Promise<Manifest | undefined> {
    const ref = (await this.versions()).filter((v) => v.createdAtMs <= time).at(-1);
    return ref ? this.load(ref) : undefined;
  }

  /** A version by number, or undefined. */
  async byNumber(version: number): Promise<Manifest | undefined> {
    const ref = (await this.versions()).find((v) => v.version === version);
    return ref ? this.load(ref) : undefined;
  }

  /**
   * Writes a new version: its manifest, then the `manifest.json` copy (made by the target
   * where it can, so a manifest of 10 000 files is written and sent once). Objects must be
   * stored and flushed first.
   */
  async publish(manifest: Manifest): Promise<void> {
    const text = encodeManifest(manifest);
    const key = manifestKey(manifest);
    await this.target.put(key, text);
    if (this.target.copy) await this.target.copy(key, latestManifestKey);
    else await this.target.put(latestManifestKey, text);
    this.#remember(key, manifest);
  }

  #remember(key: string, manifest: Manifest): void {
    if (!this.#objectsByKey.has(key))
      this.#objectsByKey.set(key, new Set(manifest.files.map(objectOf)));
  }

  /**
   * Deletes versions the policy does not keep (never the newest), then every object no kept
   * version names (also objects a failed or interrupted sync left). Returns what it removed.
   */
  async prune(
    policy: RetentionPolicy,
    now: number,
    storedObjects: Set<string>,
  ): Promise<{ versions: number; objects: number }> {
    const versions = await this.versions();
    const cutoff = policy.maxAgeHours > 0 ? now - policy.maxAgeHours * 3_600_000 : Infinity;
    const keep = versions.filter(
      (ref, index) => index >= versions.length - policy.versions || ref.createdAtMs >= cutoff,
    );
    const drop = versions.filter((ref) => !keep.includes(ref));
    const named: Set<string>[] = [];
    for (const ref of keep) {
      if (!this.#objectsByKey.has(ref.key)) await this.load(ref);
      named.push(this.#objectsByKey.get(ref.key)!);
    }
    const unnamed = [...storedObjects].filter((sha) => !named.some((names) => names.has(sha)));
    // Versions first: a crash in between leaves objects no version names, collected next time.
    if (drop.length > 0) await this.target.delete(drop.map((ref) => ref.key));
    for (const ref of drop) this.#objectsByKey.delete(ref.key);
    if (unnamed.length > 0) await this.target.delete(unnamed.map(objectKey));
    for (const sha of unnamed) storedObjects.delete(sha);
    return { versions: drop.length, objects: unnamed.length };
  }

  /**
   * At start: clears what an interrupted pass left (`target.recover()`, which also lists the
   * objects, in one walk of a directory), reads the newest version, and returns it with the
   * SHA-256s of the objects that can be trusted: those a version names (stored and made
   * durable before that version was written), and those no version names only once the
   * target checked them (`checkUnnamed`: a crash may have cut them before their flush); and
   * the sizes of those the listing gave (S3's).
   */
  async recover(): Promise<{
    latest: Manifest | undefined;
    stored: Set<string>;
    sizes: Map<string, number>;
  }> {
    const objects = await this.target.recover();
    const latest = await this.latest();
    const stored = new Set<string>();
    const sizes = new Map<string, number>();
    for (const { key, size } of objects) {
      const sha = key.slice(key.lastIndexOf("/") + 1);
      if (!/^[0-9a-f]{64}$/.test(sha)) continue;
      stored.add(sha);
      if (size !== undefined) sizes.set(sha, size);
    }
    const checkUnnamed = this.target.checkUnnamed?.bind(this.target);
    if (!checkUnnamed || stored.size === 0) return { latest, stored, sizes };
    // Unnamed by the newest version; then by older ones, newest first, until none is left
    // (usually the previous version names them all: the content that changed since).
    const named = new Set(latest?.files.map(objectOf));
    let unnamed = [...stored].filter((sha) => !named.has(sha));
    if (unnamed.length === 0) return { latest, stored, sizes };
    const older = (await this.versions()).filter((ref) => ref.version !== latest?.version);
    for (const ref of older.reverse()) {
      if (unnamed.length === 0) break;
      if (!this.#objectsByKey.has(ref.key)) await this.load(ref);
      const names = this.#objectsByKey.get(ref.key)!;
      unnamed = unnamed.filter((sha) => !names.has(sha));
    }
    if (unnamed.length === 0) return { latest, stored, sizes };
    const kept = new Set(await checkUnnamed(unnamed.map(objectKey)));
    for (const sha of unnamed) if (!kept.has(objectKey(sha))) stored.delete(sha);
    return { latest, stored, sizes };
  }
}
