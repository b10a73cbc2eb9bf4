import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { test } from "node:test";
import { packOf } from "./pack.ts";

const sha = (data: Buffer) => createHash("sha256").update(data).digest("hex");

test("a pack is its contents one after the other, named by the SHA-256 of them all", () => {
  const contents = [Buffer.from("alpha"), Buffer.from(""), Buffer.from("bravo!")];
  assert.deepEqual(packOf(contents), {
    sha256: sha(Buffer.from("alphabravo!")),
    offsets: [0, 5, 5],
    bytes: 11,
  });
  assert.equal(
    packOf([Buffer.from("alpha")]).sha256,
    sha(Buffer.from("alpha")),
    "one content: its own object",
  );
});
