import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import type { S3Client } from "@aws-sdk/client-s3";
import type { PendingUpload, UploadedPart, UploadJournal } from "./upload-journal.ts";

export interface MultipartUploadOptions {
  sdk: typeof import("@aws-sdk/client-s3");
  client: S3Client;
  bucket: string;
  /** The object's full key (prefix included). */
  key: string;
  size: number;
  partSize: number;
  /** Headers of CreateMultipartUpload (server-side encryption). */
  createParams: Record<string, unknown>;
  journal: UploadJournal;
  /** Parts sent at once (default 2). */
  queueSize?: number;
  /** Wraps a failed request into the target's error (names bucket and key, never a credential). */
  fail: (action: string, error: unknown) => Error;
}

/** What an upload did: parts sent now, and parts an earlier, interrupted attempt had stored. */
export interface MultipartUploadResult {
  partsSent: number;
  partsResumed: number;
}

const statusOf = (error: unknown) =>
  (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
const nameOf = (error: unknown) => (error as { name?: string })?.name;

/** The store does not list parts (some S3-compatible stores): the journal is all we know. */
const notImplemented = (error: unknown) =>
  nameOf(error) === "NotImplemented" ||
  nameOf(error) === "MethodNotAllowed" ||
  statusOf(error) === 501 ||
  statusOf(error) === 405;
const noSuchUpload = (error: unknown) =>
  nameOf(error) === "NoSuchUpload" || statusOf(error) === 404;

/**
 * A multipart upload that survives the process: the upload id and every acknowledged part (its
 * ETag and the SHA-256 of its bytes) go to the journal as they happen. An upload of the same key
 * found there is resumed — ListParts confirms what the store holds (a store without ListParts:
 * the journal alone) — and a part is skipped only when the body's bytes for it hash to what was
 * sent, so a file that changed in between gets those parts sent again. The object is completed
 * only after the whole body was read without error (the caller's stream verifies the content
 * hash); a body that fails aborts the upload, a store that fails keeps it for the next attempt.
 *
 * @example
 * await multipartUpload(body, { sdk, client, bucket, key, size, partSize, createParams, journal, fail });
 */
export async function multipartUpload(
  body: Readable,
  options: MultipartUploadOptions,
): Promise<MultipartUploadResult> {
  const { sdk, client, bucket, key, size, partSize, journal, fail } = options;
  const target = { Bucket: bucket, Key: key };
  let upload = await resumable(options);
  const resumedFrom = new Map((upload?.parts ?? []).map((part) => [part.n, part]));
  if (!upload) {
    let uploadId: string | undefined;
    try {
      const created = await client.send(
        new sdk.CreateMultipartUploadCommand({ ...target, ...options.createParams }),
      );
      uploadId = created.UploadId;
    } catch (error) {
      throw fail("start an upload of", error);
    }
    if (!uploadId) throw fail("start an upload of", new Error("no UploadId in the answer"));
    upload = {
      key,
      uploadId,
      size,
      partSize,
      startedAt: new Date().toISOString(),
      parts: [],
    };
    await journal.set(upload);
  }
  const current = upload;
  const done = new Map<number, UploadedPart>();
  let partsSent = 0;
  let partsResumed = 0;
  let storeError: unknown;
  const inFlight = new Set<Promise<void>>();

  const sendPart = async (n: number, bytes: Buffer): Promise<void> => {
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    const earlier = resumedFrom.get(n);
    if (earlier && earlier.sha256 === sha256) {
      done.set(n, earlier);
      partsResumed += 1;
      return;
    }
    try {
      const answer = await client.send(
        new sdk.UploadPartCommand({
          ...target,
          UploadId: current.uploadId,
          PartNumber: n,
          Body: bytes,
          ContentLength: bytes.length,
        }),
      );
      if (!answer.ETag) throw new Error(`no ETag for part ${n}`);
      const part = { n, etag: answer.ETag, sha256 };
      done.set(n, part);
      partsSent += 1;
      current.parts = [...current.parts.filter((p) => p.n !== n), part];
      await journal.set(current);
    } catch (error) {
      storeError ??= error;
    }
  };
  const queue = async (n: number, bytes: Buffer) => {
    while (inFlight.size >= (options.queueSize ?? 2)) await Promise.race(inFlight);
    if (storeError !== undefined) return;
    const sending = sendPart(n, bytes).finally(() => inFlight.delete(sending));
    inFlight.add(sending);
  };

  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let n = 0;
  try {
    for await (const chunk of body) {
      pending.push(chunk as Buffer);
      pendingBytes += (chunk as Buffer).length;
      while (pendingBytes >= partSize && storeError === undefined) {
        const whole = Buffer.concat(pending, pendingBytes);
        await queue(++n, whole.subarray(0, partSize));
        pending = [whole.subarray(partSize)];
        pendingBytes = whole.length - partSize;
      }
      if (storeError !== undefined) break;
    }
    if (pendingBytes > 0 && storeError === undefined)
      await queue(++n, Buffer.concat(pending, pendingBytes));
  } catch (bodyError) {
    // The file changed or could not be read: these parts are of no use to any later attempt.
    await Promise.allSettled(inFlight);
    await abort(options, current);
    throw bodyError;
  }
  await Promise.allSettled(inFlight);
  if (storeError !== undefined) throw fail("write", storeError); // kept in the journal: resumed next time
  try {
    await client.send(
      new sdk.CompleteMultipartUploadCommand({
        ...target,
        UploadId: current.uploadId,
        MultipartUpload: {
          Parts: [...done.values()]
            .sort((a, b) => a.n - b.n)
            .map((part) => ({ PartNumber: part.n, ETag: part.etag })),
        },
      }),
    );
  } catch (error) {
    // A part the journal trusted was not there after all: start over next time.
    if (nameOf(error) === "InvalidPart" || noSuchUpload(error)) await abort(options, current);
    throw fail("complete the upload of", error);
  }
  await journal.remove(key);
  return { partsSent, partsResumed };
}

/**
 * The journal's upload of this key if it can go on: same size and part size, and still known
 * to the store. Its parts are those the store lists (with the ETag the journal has), or all the
 * journal has when the store cannot list parts.
 */
async function resumable(options: MultipartUploadOptions): Promise<PendingUpload | undefined> {
  const { sdk, client, bucket, key, journal } = options;
  const upload = await journal.get(key);
  if (!upload) return undefined;
  if (upload.size !== options.size || upload.partSize !== options.partSize) {
    await abort(options, upload);
    return undefined;
  }
  const listed = new Map<number, string | undefined>();
  try {
    let marker: string | undefined;
    do {
      const page = await client.send(
        new sdk.ListPartsCommand({
          Bucket: bucket,
          Key: key,
          UploadId: upload.uploadId,
          PartNumberMarker: marker,
        }),
      );
      for (const part of page.Parts ?? [])
        if (part.PartNumber !== undefined) listed.set(part.PartNumber, part.ETag);
      marker = page.IsTruncated ? page.NextPartNumberMarker : undefined;
    } while (marker);
  } catch (error) {
    if (noSuchUpload(error)) {
      await journal.remove(key);
      return undefined;
    }
    if (notImplemented(error)) return upload;
    throw options.fail("list the parts of", error);
  }
  return { ...upload, parts: upload.parts.filter((part) => listed.get(part.n) === part.etag) };
}

/** Aborts an upload (best effort: a store that cannot, or lost it, is not an error) and forgets it. */
export async function abort(
  options: Pick<MultipartUploadOptions, "sdk" | "client" | "bucket" | "journal">,
  upload: Pick<PendingUpload, "key" | "uploadId">,
): Promise<void> {
  const { sdk, client, bucket, journal } = options;
  await client
    .send(
      new sdk.AbortMultipartUploadCommand({
        Bucket: bucket,
        Key: upload.key,
        UploadId: upload.uploadId,
      }),
    )
    .catch(() => undefined);
  await journal.remove(upload.key);
}
