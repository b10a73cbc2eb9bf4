import type { ManifestEntry } from "./manifest.ts";

/** Where content is in a pack: the pack's SHA-256, and the offset of the content in it. */
export interface PackedAt {
  pack: string;
  offset: number;
}

/**
 * What the target holds, by SHA-256: its objects (files' contents, and packs), and where the
 * packed contents the newest version names are. A content is held when it is an object or
 * packed; a pass copies only what is not.
 *
 * @example
 * const index = new ContentIndex(storedObjects, latest?.files ?? []);
 * if (!index.held(sha256)) await copy();
 */
export class ContentIndex {
  /** SHA-256s of the objects the target holds. */
  readonly objects: Set<string>;
  #packed: Map<string, PackedAt>;
  /** Bytes of the packs this index has seen the size of. */
  readonly #packBytes = new Map<string, number>();

  /** `sizes`: of objects, as far as known (S3's listing has them). */
  constructor(
    objects: Set<string>,
    entries: readonly ManifestEntry[],
    sizes: ReadonlyMap<string, number> = new Map(),
  ) {
    this.objects = objects;
    this.#packed = packedIn(entries);
    for (const { pack } of entries) {
      const bytes = pack === undefined ? undefined : sizes.get(pack);
      if (bytes !== undefined) this.#packBytes.set(pack!, bytes);
    }
  }

  held(sha256: string): boolean {
    return this.objects.has(sha256) || this.#packed.has(sha256);
  }

  /** Where held content is, for its entry: nothing to add for its own object. */
  location(sha256: string): Partial<PackedAt> {
    return this.objects.has(sha256) ? {} : (this.#packed.get(sha256) ?? {});
  }

  /**
   * An object stored: `contents` are in it at their offsets, `bytes` long in all. A pack of
   * one content is that content's own object.
   */
  stored(
    object: string,
    contents: readonly { sha256: string; offset: number }[] = [],
    bytes?: number,
  ): void {
    this.objects.add(object);
    for (const { sha256, offset } of contents)
      if (sha256 !== object) this.#packed.set(sha256, { pack: object, offset });
    if (bytes !== undefined) this.#packBytes.set(object, bytes);
  }

  /** A pack's size in bytes, when known. */
  packBytes(pack: string): number | undefined {
    return this.#packBytes.get(pack);
  }

  knowPackBytes(pack: string, bytes: number): void {
    this.#packBytes.set(pack, bytes);
  }

  /** Packed contents no longer counted as held (their pack is to be left): copied again when met. */
  forget(contents: Iterable<string>): void {
    for (const sha256 of contents) this.#packed.delete(sha256);
  }

  /** After a pass and its pruning: the packed contents are those the newest version names. */
  newest(entries: readonly ManifestEntry[]): void {
    this.#packed = packedIn(entries);
  }
}

function packedIn(entries: readonly ManifestEntry[]): Map<string, PackedAt> {
  const packed = new Map<string, PackedAt>();
  for (const { sha256, pack, offset } of entries)
    if (pack !== undefined) packed.set(sha256, { pack, offset: offset ?? 0 });
  return packed;
}
