import { smallFileBytes } from "./copy.ts";

/**
 * Small files per batch to pack into one object: 10 000 files make ~300 packs (and, on copy
 * threads, ~600 messages), not 10 000 objects. At most `batchBytes` a batch (a file alone may
 * be up to 1 MiB): what a copy thread holds in memory until it packs them, and the most a pack
 * keeps of old contents for one file still in it.
 */
export const batchFiles = 32;
export const batchBytes = 1024 * 1024;

/** How a pass copies its files: each alone (by index, biggest first), or in batches to pack. */
export interface CopyPlan {
  singles: number[];
  /** Batches of small files, and (`bigFilesInBatches`) each big file alone, the big ones first. */
  batches: number[][];
}

/**
 * Splits the files a pass copies. Without `packing`, every file is copied alone. With it,
 * small files (< 1 MiB) go in batches of `batchFiles` and `batchBytes` at most, in the order
 * given (files of a directory, sorted, end up in the same packs); big files are copied alone,
 * or, with `bigFilesInBatches` (copy threads), each in a batch of its own.
 *
 * @example
 * const { singles, batches } = planCopies(files, { packing: true, bigFilesInBatches: false });
 */
export function planCopies(
  files: readonly { size: number }[],
  { packing, bigFilesInBatches }: { packing: boolean; bigFilesInBatches: boolean },
): CopyPlan {
  const singles: number[] = [];
  const batches: number[][] = [];
  let batch: number[] = [];
  let bytes = 0;
  const close = () => {
    if (batch.length > 0) batches.push(batch);
    batch = [];
    bytes = 0;
  };
  for (const [index, { size }] of files.entries()) {
    if (!packing || (size >= smallFileBytes && !bigFilesInBatches)) singles.push(index);
    else if (size >= smallFileBytes) batches.push([index]);
    else {
      if (bytes + size > batchBytes) close();
      bytes += size;
      if (batch.push(index) === batchFiles) close();
    }
  }
  close();
  // Biggest first: the pass does not wait for a big file started last.
  singles.sort((a, b) => files[b]!.size - files[a]!.size);
  const big = (batch: number[]) => {
    const size = files[batch[0]!]!.size;
    return size >= smallFileBytes ? size : 0;
  };
  batches.sort((a, b) => big(b) - big(a));
  return { singles, batches };
}
