/**
 * The thread that copies small files into a directory target (see copy-pool.ts): one message
 * per batch of files, answered once their copies are done with synchronous fs calls: open, read, close
 * and SHA-256 of the source; lstat of the object; unless present, mkdir, open, write, rename;
 * stat of the source again. Through libuv's thread pool each of those was a round trip between
 * threads (~10 per file, 420 000 futex calls for 10 000 files); here a batch of files costs
 * two messages.
 * Imports Node built-ins (node:fs through runtime/builtins.ts, which keeps its lazy parts
 * unloaded) and manifest.ts's object layout only: it is its own entry of the bundle
 * (scripts/build.ts).
 */
import { createHash } from "node:crypto";
import { dirname, join } from "node:path";
import { parentPort, threadId } from "node:worker_threads";
import { fs } from "../../runtime/builtins.ts";
import { objectKey } from "../manifest.ts";
import type { CopyBatch, CopyReply, FileIdentity } from "./copy-pool.ts";

const madeDirs = new Set<string>();
const tempTag = `${process.pid.toString(36)}-w${threadId}-${Date.now().toString(36)}`;
let tempCounter = 0;

/** What went wrong, as plain data (an Error's own fields do not cross threads). */
function failure(kind: "source" | "target", error: unknown): CopyReply {
  const { message, code, syscall } = error as NodeJS.ErrnoException;
  return { kind, message: String(message), code, syscall };
}

/** Reads up to one byte more than the scan saw: a file that grew reads longer. */
function readSource(path: string, size: number): Buffer | "gone" | CopyReply {
  let fd: number;
  try {
    fd = fs.openSync(path, "r");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return "gone";
    return failure("source", error);
  }
  try {
    // One read: a regular file gives all it has up to the length asked, so a file that grew
    // fills the extra byte and one that shrank reads short.
    const buffer = Buffer.allocUnsafe(size + 1);
    return buffer.subarray(0, fs.readSync(fd, buffer, 0, buffer.length, 0));
  } catch (error) {
    return failure("source", error);
  } finally {
    fs.closeSync(fd);
  }
}

/** Writes `data` to a temp file beside `path` and renames it there; returns the fd, still open when `keepOpen`. */
function writeObject(path: string, data: Buffer, keepOpen: boolean): number | undefined {
  const dir = dirname(path);
  if (!madeDirs.has(dir)) {
    fs.mkdirSync(dir, { recursive: true });
    madeDirs.add(dir);
  }
  const temp = `${path}.${tempTag}-${(tempCounter++).toString(36)}.partial`;
  const fd = fs.openSync(temp, "w", 0o644);
  try {
    for (let offset = 0; offset < data.length; )
      offset += fs.writeSync(fd, data, offset, data.length - offset);
    fs.renameSync(temp, path);
  } catch (error) {
    fs.closeSync(fd);
    try {
      fs.unlinkSync(temp);
    } catch {
      // Already gone, or the directory is the problem: recover() removes *.partial at start.
    }
    throw error;
  }
  if (keepOpen) return fd;
  fs.closeSync(fd);
  return undefined;
}

export function copyFile(
  request: { source: string; size: number },
  root: string,
  keepOpen: boolean,
): CopyReply {
  const data = readSource(request.source, request.size);
  if (data === "gone") return { kind: "gone" };
  if (!Buffer.isBuffer(data)) return data;
  if (data.length > request.size)
    return { kind: "changed", detail: `more than ${request.size} bytes while read` };
  if (data.length < request.size)
    return { kind: "changed", detail: `size ${request.size} → ${data.length} while read` };
  const sha256 = createHash("sha256").update(data).digest("hex");
  const path = join(root, ...objectKey(sha256).split("/"));
  let written = false;
  let fd: number | undefined;
  let held: boolean;
  try {
    // Without an exception for the usual answer (absent): one costs ~8 µs, the lstat ~1 µs.
    held = fs.lstatSync(path, { throwIfNoEntry: false }) !== undefined;
  } catch (error) {
    return failure("target", error);
  }
  if (!held) {
    try {
      fd = writeObject(path, data, keepOpen);
      written = true;
    } catch (writeError) {
      return failure("target", writeError);
    }
  }
  let after: FileIdentity | undefined;
  try {
    const stat = fs.statSync(request.source);
    after = { size: stat.size, mtimeMs: stat.mtimeMs, ino: stat.ino };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
      if (fd !== undefined) fs.closeSync(fd);
      return failure("source", error);
    }
  }
  return { kind: "stored", sha256, size: data.length, written, path, fd, after };
}

/** The files of a batch in order, up to the first the target failed (the pass fails with it). */
export function copyBatch(batch: CopyBatch): CopyReply[] {
  const replies: CopyReply[] = [];
  for (const file of batch.files) {
    const reply = copyFile(file, batch.root, batch.keepOpen);
    replies.push(reply);
    if (reply.kind === "target") break;
  }
  return replies;
}

parentPort?.on("message", ({ id, batch }: { id: number; batch: CopyBatch }) => {
  parentPort!.postMessage({ id, replies: copyBatch(batch) });
});
