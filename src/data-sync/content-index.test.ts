import assert from "node:assert/strict";
import { test } from "node:test";
import { ContentIndex } from "./content-index.ts";
import type { ManifestEntry } from "./manifest.ts";

const sha = (c: string) => c.repeat(64);
const entry = (path: string, extra: Partial<ManifestEntry>): ManifestEntry => ({
  path,
  size: 1,
  mtimeMs: 0,
  sha256: sha("0"),
  mode: 0o644,
  ...extra,
});

test("content is held as its own object or packed; packed content is found where the newest version says", () => {
  const index = new ContentIndex(new Set([sha("a"), sha("p")]), [
    entry("a", { sha256: sha("a") }),
    entry("b", { sha256: sha("b"), pack: sha("p"), offset: 7 }),
  ]);
  assert.equal(index.held(sha("a")), true);
  assert.deepEqual(index.location(sha("a")), {}, "its own object: no pack to name");
  assert.equal(index.held(sha("b")), true);
  assert.deepEqual(index.location(sha("b")), { pack: sha("p"), offset: 7 });
  assert.equal(index.held(sha("c")), false);

  // A pack of two contents, and a pack of one, which is that content's own object.
  index.stored(sha("q"), [
    { sha256: sha("c"), offset: 0 },
    { sha256: sha("d"), offset: 3 },
  ]);
  index.stored(sha("e"), [{ sha256: sha("e"), offset: 0 }]);
  assert.deepEqual(index.location(sha("d")), { pack: sha("q"), offset: 3 });
  assert.deepEqual(index.location(sha("e")), {});
  assert.ok(index.objects.has(sha("q")) && index.objects.has(sha("e")));

  // A pack to leave: its contents are no longer held, so they are copied again when met.
  index.stored(
    sha("r"),
    [
      { sha256: sha("f"), offset: 0 },
      { sha256: sha("g"), offset: 1 },
    ],
    2,
  );
  assert.equal(index.packBytes(sha("r")), 2);
  index.forget([sha("f")]);
  assert.equal(index.held(sha("f")), false);
  assert.equal(index.held(sha("g")), true);

  // After pruning, only what the newest version packs is known as packed.
  index.newest([entry("d", { sha256: sha("d"), pack: sha("q"), offset: 3 })]);
  assert.equal(index.held(sha("b")), false);
  assert.equal(index.held(sha("c")), false);
  assert.equal(index.held(sha("d")), true);
});
