/**
 * The thread that packs small files into a directory target (see copy-pool.ts), in two
 * messages per batch: first it reads each file whole (one open, read, close), hashes it with
 * SHA-256 and stats it again, and answers what it read; then it writes the contents the main
 * thread chose (those the target does not hold) one after the other into one object, a pack,
 * named by its own SHA-256: temp file, write, rename. Creating and renaming a file per small
 * file cost ~35–50 µs of system time each (10 000 files: 0.5 s on one thread); a pack of 256
 * costs that once. Synchronous fs calls: through libuv's thread pool each was a round trip
 * between threads.
 * Imports Node built-ins (node:fs through runtime/builtins.ts, which keeps its lazy parts
 * unloaded) and manifest.ts's object layout only: it is its own entry of the bundle
 * (scripts/build.ts).
 */
import { createHash } from "node:crypto";
import { dirname, join } from "node:path";
import { parentPort, threadId } from "node:worker_threads";
import { fs } from "../../runtime/builtins.ts";
import { objectKey } from "../manifest.ts";
import { type PackLayout, packOf } from "../pack.ts";
import type { CopyBatch, CopyFailure, FileIdentity, PackReply, ReadReply } from "./copy-pool.ts";

const madeDirs = new Set<string>();
const tempTag = `${process.pid.toString(36)}-w${threadId}-${Date.now().toString(36)}`;
let tempCounter = 0;

/** What went wrong, as plain data (an Error's own fields do not cross threads). */
function failure<Kind extends "source" | "target">(kind: Kind, error: unknown) {
  const { message, code, syscall } = error as NodeJS.ErrnoException;
  return { kind, message: String(message), code, syscall };
}

/** The source opened for reading: its fd, or why not. */
function openSource(path: string): number | "gone" | CopyFailure {
  try {
    return fs.openSync(path, "r");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return "gone";
    return failure("source", error);
  }
}

/** A file read longer or shorter than the scan saw it: changed since. */
function sizeChange(size: number, read: number): { kind: "changed"; detail: string } | undefined {
  if (read > size) return { kind: "changed", detail: `more than ${size} bytes while read` };
  if (read < size) return { kind: "changed", detail: `size ${size} → ${read} while read` };
  return undefined;
}

/** Reads up to one byte more than the scan saw: a file that grew reads longer. */
function readSource(path: string, size: number): Buffer | "gone" | ReadReply {
  const fd = openSource(path);
  if (typeof fd !== "number") return fd;
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

/** Bytes read at once from a big file (which is never held whole). */
const chunkBytes = 1024 * 1024;
let chunk: Buffer | undefined;

/**
 * Reads a big file in chunks, each given to `each`, and checks it has `size` bytes: the
 * SHA-256 of what was read, or what went wrong.
 */
function streamSource(
  path: string,
  size: number,
  each: (bytes: Buffer) => void = () => {},
): { sha256: string } | "gone" | { kind: "changed"; detail: string } | CopyFailure {
  const fd = openSource(path);
  if (typeof fd !== "number") return fd;
  const hash = createHash("sha256");
  let length = 0;
  try {
    chunk ??= Buffer.allocUnsafe(chunkBytes);
    // Up to one byte past `size`: a file that grew reads longer.
    for (let read = 1; read > 0 && length <= size; length += read) {
      read = fs.readSync(fd, chunk, 0, Math.min(chunk.length, size + 1 - length), length);
      const bytes = chunk.subarray(0, read);
      hash.update(bytes);
      each(bytes);
    }
  } catch (error) {
    return failure("source", error);
  } finally {
    fs.closeSync(fd);
  }
  return sizeChange(size, length) ?? { sha256: hash.digest("hex") };
}

/** The source's size, mtime and inode now; undefined when it is gone. */
function identityOf(path: string): FileIdentity | undefined {
  const stat = fs.statSync(path, { throwIfNoEntry: false });
  return stat && { size: stat.size, mtimeMs: stat.mtimeMs, ino: stat.ino };
}

/** A big file read in phase one: read again, in chunks, when packed. */
interface Streamed {
  source: string;
  size: number;
  sha256: string;
}

/**
 * One file read: its content's SHA-256 and the file as it is after the read (the syncer
 * compares it with what the scan saw: a change since shows there). A small file is read whole
 * and its content kept for the pack; a big one (`stream`) is read in chunks and only hashed.
 */
export function readFile(request: { source: string; size: number; stream?: boolean }): {
  reply: ReadReply;
  data?: Buffer | Streamed;
} {
  if (request.stream) {
    const read = streamSource(request.source, request.size);
    if (read === "gone") return { reply: { kind: "gone" } };
    if (!("sha256" in read)) return { reply: read };
    try {
      const after = identityOf(request.source);
      const reply = { kind: "read" as const, sha256: read.sha256, size: request.size, after };
      return { reply, data: { ...request, sha256: read.sha256 } };
    } catch (error) {
      return { reply: failure("source", error) };
    }
  }
  const data = readSource(request.source, request.size);
  if (data === "gone") return { reply: { kind: "gone" } };
  if (!Buffer.isBuffer(data)) return { reply: data };
  const changed = sizeChange(request.size, data.length);
  if (changed) return { reply: changed };
  const sha256 = createHash("sha256").update(data).digest("hex");
  try {
    const after = identityOf(request.source);
    return { reply: { kind: "read", sha256, size: data.length, after }, data };
  } catch (error) {
    return { reply: failure("source", error) };
  }
}

/**
 * Writes `contents` one after the other as one object named by the SHA-256 of them all. A big
 * file is packed alone: the object is its content, read again in chunks and checked against
 * the SHA-256 of its first read ("changed" when it differs: nothing is written).
 */
export function writePack(
  contents: readonly (Buffer | Streamed)[],
  root: string,
  keepOpen: boolean,
): PackReply {
  const [first] = contents;
  if (first && !Buffer.isBuffer(first)) {
    if (contents.length > 1) return failure("target", new Error("a big file is packed alone"));
    const layout = { sha256: first.sha256, offsets: [0], bytes: first.size };
    return writeObject(layout, root, keepOpen, (fd) => {
      const read = streamSource(first.source, first.size, (bytes) => writeAll(fd, [bytes]));
      if (read === "gone") return "gone while it was copied";
      if ("kind" in read)
        return read.kind === "changed" ? read.detail : `unreadable since: ${read.message}`;
      return read.sha256 === first.sha256 ? undefined : "its content changed between two reads";
    });
  }
  const buffers = contents as readonly Buffer[];
  return writeObject(packOf(buffers), root, keepOpen, (fd) => {
    writeAll(fd, buffers);
    return undefined;
  });
}

/**
 * Writes the object named `sha256`, unless the target holds it: temp file beside it, `write`
 * (which returns why the content changed, if it did: then nothing is kept), rename. The fd
 * stays open when `keepOpen`.
 */
function writeObject(
  { sha256, offsets, bytes }: PackLayout,
  root: string,
  keepOpen: boolean,
  write: (fd: number) => string | undefined,
): PackReply {
  const path = join(root, ...objectKey(sha256).split("/"));
  try {
    if (fs.lstatSync(path, { throwIfNoEntry: false }))
      return { kind: "packed", sha256, path, written: false, fd: undefined, offsets, bytes };
    const dir = dirname(path);
    if (!madeDirs.has(dir)) {
      fs.mkdirSync(dir, { recursive: true });
      madeDirs.add(dir);
    }
    const temp = `${path}.${tempTag}-${(tempCounter++).toString(36)}.partial`;
    const fd = fs.openSync(temp, "w", 0o644);
    let changed: string | undefined;
    try {
      changed = write(fd);
      if (changed === undefined) fs.renameSync(temp, path);
    } catch (error) {
      changed = undefined;
      discard(fd, temp);
      throw error;
    }
    if (changed !== undefined) {
      discard(fd, temp);
      return { kind: "changed", detail: changed };
    }
    if (!keepOpen) fs.closeSync(fd);
    return {
      kind: "packed",
      sha256,
      path,
      written: true,
      fd: keepOpen ? fd : undefined,
      offsets,
      bytes,
    };
  } catch (error) {
    return failure("target", error);
  }
}

/** Closes and removes a temp file that will not be renamed. */
function discard(fd: number, temp: string): void {
  fs.closeSync(fd);
  try {
    fs.unlinkSync(temp);
  } catch {
    // Already gone, or the directory is the problem: recover() removes *.partial at start.
  }
}

/** Writes every byte of `buffers`, going on after short writes. */
function writeAll(fd: number, buffers: readonly Buffer[]): void {
  let pending = buffers.filter((buffer) => buffer.length > 0);
  while (pending.length > 0) {
    let written = fs.writevSync(fd, pending);
    while (pending.length > 0 && written >= pending[0]!.length) {
      written -= pending[0]!.length;
      pending = pending.slice(1);
    }
    if (written > 0) pending = [pending[0]!.subarray(written), ...pending.slice(1)];
  }
}

/** Each batch's contents read, until the main thread says which to pack. */
const reading = new Map<
  number,
  { batch: CopyBatch; contents: (Buffer | Streamed | undefined)[] }
>();

parentPort?.on(
  "message",
  (message: { id: number; batch: CopyBatch } | { id: number; pack: number[] }) => {
    if ("batch" in message) {
      const read = message.batch.files.map(readFile);
      reading.set(message.id, { batch: message.batch, contents: read.map(({ data }) => data) });
      parentPort!.postMessage({ id: message.id, replies: read.map(({ reply }) => reply) });
      return;
    }
    const held = reading.get(message.id);
    reading.delete(message.id);
    const chosen: (Buffer | Streamed)[] = [];
    for (const index of message.pack) {
      const content = held?.contents[index];
      if (!content) {
        const error = new Error(`file ${index} of batch ${message.id} was not read whole`);
        parentPort!.postMessage({ id: message.id, pack: failure("target", error) });
        return;
      }
      chosen.push(content);
    }
    const pack =
      held && chosen.length > 0
        ? writePack(chosen, held.batch.root, held.batch.keepOpen)
        : undefined;
    parentPort!.postMessage({ id: message.id, pack });
  },
);
