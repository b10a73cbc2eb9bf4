import assert from "node:assert/strict";
import { test } from "node:test";
import { batchBytes, batchFiles, planCopies } from "./copy-plan.ts";

const MiB = 1024 * 1024;

test("without packing, every file is copied alone, the biggest first", () => {
  const plan = planCopies([{ size: 10 }, { size: 3 * MiB }, { size: 20 }], {
    packing: false,
    bigFilesInBatches: true,
  });
  assert.deepEqual(plan, { singles: [1, 2, 0], batches: [] });
});

test("packing: small files in batches of batchFiles and batchBytes at most, in order", () => {
  const files = [
    ...Array.from({ length: batchFiles + 3 }, () => ({ size: 100 })),
    { size: batchBytes - 50 }, // does not fit after the 3: starts a batch of its own
    { size: 60 }, // nor after it
  ];
  const plan = planCopies(files, { packing: true, bigFilesInBatches: false });
  assert.deepEqual(plan.singles, []);
  assert.deepEqual(
    plan.batches.map((batch) => batch.length),
    [batchFiles, 3, 1, 1],
  );
  assert.deepEqual(plan.batches[1], [batchFiles, batchFiles + 1, batchFiles + 2]);
});

test("packing: big files alone, as singles or (copy threads) each in a batch of its own, first", () => {
  const files = [{ size: 5 }, { size: 2 * MiB }, { size: 7 }, { size: 4 * MiB }];
  assert.deepEqual(planCopies(files, { packing: true, bigFilesInBatches: false }), {
    singles: [3, 1],
    batches: [[0, 2]],
  });
  assert.deepEqual(planCopies(files, { packing: true, bigFilesInBatches: true }), {
    singles: [],
    batches: [[3], [1], [0, 2]],
  });
});
