import { Readable } from "node:stream";
import type { S3Client, S3ClientConfig, ServerSideEncryption } from "@aws-sdk/client-s3";
import { commonJsExports } from "../../runtime/commonjs-exports.ts";
import { describeError, SidecarError } from "../../runtime/errors.ts";
import { SyncErrorCodes } from "../error-codes.ts";
import type { ByteRange } from "../manifest.ts";
import { abort, multipartUpload } from "./s3-multipart.ts";
import type { SyncTarget, TargetObject } from "./target.ts";
import { UploadJournal } from "./upload-journal.ts";

export interface S3TargetOptions {
  bucket: string;
  prefix?: string;
  region?: string;
  endpoint?: string;
  forcePathStyle?: boolean;
  serverSideEncryption?: "AES256" | "aws:kms" | "aws:kms:dsse";
  kmsKeyId?: string;
  /** Bytes per part of a multipart upload; bodies above it go up in parts. Default 8 MiB. */
  partSize?: number;
  maxAttempts?: number;
  /** Multipart uploads in progress, kept so a killed sidecar resumes them (default: in memory). */
  journal?: UploadJournal;
  /** Extra client settings (tests pass static credentials here; production uses the default chain). */
  clientConfig?: Partial<S3ClientConfig>;
}

/** An SDK error as one line: its name and message, never the request (which holds signatures). */
function sdkError(error: unknown): string {
  if (error && typeof error === "object" && "name" in error && "message" in error) {
    const { name, message } = error as { name: string; message: string };
    return message && !message.includes(name) ? `${name}: ${message}` : describeError(error);
  }
  return describeError(error);
}

function isNotFound(error: unknown): boolean {
  const name = (error as { name?: string })?.name;
  const status = (error as { $metadata?: { httpStatusCode?: number } })?.$metadata?.httpStatusCode;
  return name === "NoSuchKey" || name === "NotFound" || status === 404;
}

/**
 * An S3 bucket (or an S3-compatible store) as a target, through the AWS SDK v3. Credentials
 * come from the SDK's default chain (environment, web identity token file as IRSA sets it,
 * shared config and credentials files, container and instance metadata). Big objects go up as
 * multipart uploads that become visible only when complete and are aborted on error.
 *
 * @example
 * const target = new S3Target({ bucket: "backups", prefix: "my-app/" });
 */
export class S3Target implements SyncTarget {
  readonly description: string;
  readonly #clientConfig: S3ClientConfig;
  /** The SDK is loaded on first use, so commands and roles without S3 never pay for it. */
  #sdk: Promise<{ sdk: typeof import("@aws-sdk/client-s3"); client: S3Client }> | undefined;
  #client: S3Client | undefined;
  readonly #bucket: string;
  readonly #prefix: string;
  readonly #sse: Record<string, string>;
  readonly #partSize: number;
  readonly #journal: UploadJournal;
  /** Keys written since the last flush: a journal upload of another key has no source any more. */
  readonly #touched = new Set<string>();
  /** One upload per key at a time (two files with the same content share an object). */
  readonly #writing = new Map<string, Promise<unknown>>();

  constructor(options: S3TargetOptions) {
    const prefix = options.prefix ?? "";
    this.#prefix = prefix === "" || prefix.endsWith("/") ? prefix : `${prefix}/`;
    this.#bucket = options.bucket;
    this.#partSize = options.partSize ?? 8 * 1024 * 1024;
    this.#journal = options.journal ?? new UploadJournal();
    this.#clientConfig = {
      region:
        options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? "us-east-1",
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      forcePathStyle: options.forcePathStyle ?? false,
      maxAttempts: options.maxAttempts ?? 3,
      ...options.clientConfig,
    };
    this.#sse = {};
    if (options.serverSideEncryption) {
      this.#sse.ServerSideEncryption = options.serverSideEncryption;
      if (options.kmsKeyId) this.#sse.SSEKMSKeyId = options.kmsKeyId;
    }
    const where = options.endpoint ? ` at ${new URL(options.endpoint).host}` : "";
    this.description = `s3://${this.#bucket}/${this.#prefix}${where}`;
  }

  #connect(): Promise<{ sdk: typeof import("@aws-sdk/client-s3"); client: S3Client }> {
    this.#sdk ??= import("@aws-sdk/client-s3").then((loaded) => {
      const sdk = commonJsExports(loaded, "S3Client");
      this.#client = new sdk.S3Client(this.#clientConfig);
      return { sdk, client: this.#client };
    });
    return this.#sdk;
  }

  #key(key: string): string {
    return this.#prefix + key;
  }

  #fail(action: string, key: string, error: unknown): SidecarError {
    return new SidecarError(
      SyncErrorCodes.TARGET,
      `Cannot ${action} "s3://${this.#bucket}/${this.#key(key)}": ${sdkError(error)}`,
      { cause: error },
    );
  }

  get #encryption(): { ServerSideEncryption?: ServerSideEncryption; SSEKMSKeyId?: string } {
    return this.#sse as { ServerSideEncryption?: ServerSideEncryption; SSEKMSKeyId?: string };
  }

  async put(key: string, data: string | Uint8Array): Promise<void> {
    const { sdk, client } = await this.#connect();
    try {
      await client.send(
        new sdk.PutObjectCommand({
          Bucket: this.#bucket,
          Key: this.#key(key),
          Body: data,
          ...this.#encryption,
        }),
      );
    } catch (error) {
      throw this.#fail("write", key, error);
    }
  }

  /** CopyObject: the server copies the bytes (a manifest of 10 000 files is not uploaded twice). */
  async copy(from: string, to: string): Promise<void> {
    const { sdk, client } = await this.#connect();
    try {
      await client.send(
        new sdk.CopyObjectCommand({
          Bucket: this.#bucket,
          Key: this.#key(to),
          CopySource: `${this.#bucket}/${this.#key(from).split("/").map(encodeURIComponent).join("/")}`,
          ...this.#encryption,
        }),
      );
    } catch (error) {
      throw this.#fail("write", to, error);
    }
  }

  async putStream(
    key: string,
    open: () => Readable,
    size: number,
    data?: Uint8Array,
  ): Promise<void> {
    const before = this.#writing.get(key);
    const writing = (async () => {
      await before?.catch(() => undefined);
      return this.#write(key, open, size, data);
    })();
    this.#writing.set(key, writing);
    try {
      await writing;
    } finally {
      if (this.#writing.get(key) === writing) this.#writing.delete(key);
    }
  }

  async #write(
    key: string,
    open: () => Readable,
    size: number,
    data: Uint8Array | undefined,
  ): Promise<void> {
    const { sdk, client } = await this.#connect();
    if (data && size < this.#partSize) return this.#putObject(sdk, client, key, data);
    let bodyError: unknown;
    const body = open();
    body.once("error", (error) => {
      bodyError = error;
    });
    try {
      if (size < this.#partSize) {
        // One request; the body is read whole first, so a body that fails sends nothing.
        const chunks: Buffer[] = [];
        for await (const chunk of body) chunks.push(chunk as Buffer);
        return await this.#putObject(sdk, client, key, Buffer.concat(chunks));
      }
      this.#touched.add(this.#key(key));
      await multipartUpload(body, {
        sdk,
        client,
        bucket: this.#bucket,
        key: this.#key(key),
        size,
        partSize: this.#partSize,
        createParams: this.#encryption,
        journal: this.#journal,
        fail: (action, error) => this.#fail(action, key, error),
      });
    } catch (error) {
      body.destroy();
      if (bodyError !== undefined) throw bodyError;
      if (error instanceof SidecarError) throw error;
      throw this.#fail("write", key, error);
    }
  }

  /** One PutObject of a body in memory. */
  async #putObject(
    sdk: typeof import("@aws-sdk/client-s3"),
    client: S3Client,
    key: string,
    data: Uint8Array,
  ): Promise<void> {
    try {
      await client.send(
        new sdk.PutObjectCommand({
          Bucket: this.#bucket,
          Key: this.#key(key),
          Body: data,
          ContentLength: data.length,
          ...this.#encryption,
        }),
      );
    } catch (error) {
      throw this.#fail("write", key, error);
    }
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    // An empty file's content in a pack: nothing to read.
    if (range?.length === 0) return Readable.from([]);
    const { sdk, client } = await this.#connect();
    try {
      const response = await client.send(
        new sdk.GetObjectCommand({
          Bucket: this.#bucket,
          Key: this.#key(key),
          ...(range && { Range: `bytes=${range.offset}-${range.offset + range.length - 1}` }),
        }),
      );
      return response.Body as Readable;
    } catch (error) {
      throw this.#fail("read", key, error);
    }
  }

  async getText(key: string): Promise<string | undefined> {
    const { sdk, client } = await this.#connect();
    try {
      const response = await client.send(
        new sdk.GetObjectCommand({ Bucket: this.#bucket, Key: this.#key(key) }),
      );
      return await response.Body!.transformToString("utf8");
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw this.#fail("read", key, error);
    }
  }

  async list(prefix: string): Promise<TargetObject[]> {
    const { sdk, client } = await this.#connect();
    const objects: TargetObject[] = [];
    let token: string | undefined;
    try {
      do {
        const page = await client.send(
          new sdk.ListObjectsV2Command({
            Bucket: this.#bucket,
            Prefix: this.#key(prefix),
            ContinuationToken: token,
          }),
        );
        for (const item of page.Contents ?? []) {
          if (item.Key === undefined) continue;
          objects.push({ key: item.Key.slice(this.#prefix.length), size: item.Size ?? 0 });
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    } catch (error) {
      throw this.#fail("list", prefix, error);
    }
    return objects.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async delete(keys: readonly string[]): Promise<void> {
    const { sdk, client } = await this.#connect();
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000);
      try {
        const result = await client.send(
          new sdk.DeleteObjectsCommand({
            Bucket: this.#bucket,
            Delete: { Objects: batch.map((key) => ({ Key: this.#key(key) })), Quiet: true },
          }),
        );
        const failed = result.Errors?.[0];
        if (failed) throw new Error(`${failed.Code ?? "Error"}: ${failed.Message ?? ""}`);
      } catch (error) {
        throw this.#fail("delete", batch[0]!, error);
      }
    }
  }

  /** Aborts the journal's uploads no write of this pass continued: their file changed or is gone. */
  async flush(): Promise<void> {
    const stale = (await this.#journal.all()).filter((u) => !this.#touched.has(u.key));
    this.#touched.clear();
    if (stale.length === 0) return;
    const { sdk, client } = await this.#connect();
    for (const upload of stale)
      await abort({ sdk, client, bucket: this.#bucket, journal: this.#journal }, upload);
  }

  async recover(): Promise<TargetObject[]> {
    await this.#abortUnknownUploads();
    return this.list("objects/");
  }

  async #abortUnknownUploads(): Promise<void> {
    const { sdk, client } = await this.#connect();
    // Parts of uploads a killed sync left behind are billed until aborted; those in the journal
    // are resumed by the next write of their object instead.
    const resumable = new Set((await this.#journal.all()).map((u) => u.uploadId));
    let uploads: { Key?: string; UploadId?: string }[];
    try {
      const result = await client.send(
        new sdk.ListMultipartUploadsCommand({ Bucket: this.#bucket, Prefix: this.#prefix }),
      );
      uploads = result.Uploads ?? [];
    } catch {
      return; // Not every S3-compatible store lists uploads; a lifecycle rule cleans up there.
    }
    for (const upload of uploads) {
      if (upload.UploadId && resumable.has(upload.UploadId)) continue;
      await client
        .send(
          new sdk.AbortMultipartUploadCommand({
            Bucket: this.#bucket,
            Key: upload.Key,
            UploadId: upload.UploadId,
          }),
        )
        .catch(() => undefined);
    }
  }

  close(): void {
    this.#client?.destroy();
  }
}
