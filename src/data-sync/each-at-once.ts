/**
 * Runs `task` for every item, at most `limit` at once, in order. After the first failure no
 * item starts (nor once `stop` is aborted); the first failure rejects, after the tasks running
 * then have settled.
 *
 * @example
 * await eachAtOnce(paths, 16, (path) => fsyncPath(path));
 */
export async function eachAtOnce<T>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<void>,
  { stop }: { stop?: AbortSignal } = {},
): Promise<void> {
  let next = 0;
  let failure: unknown;
  const lane = async () => {
    while (failure === undefined && !stop?.aborted && next < items.length) {
      try {
        await task(items[next++]!);
      } catch (error) {
        failure ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  if (failure !== undefined) throw failure;
}
