import type { CheckpointStore } from "../../runtime/files/checkpoint-store.ts";

/** One part of a multipart upload that the store acknowledged. */
export interface UploadedPart {
  /** 1, 2, 3…: bytes [(n-1)·partSize, n·partSize) of the object. */
  n: number;
  etag: string;
  /** Hex SHA-256 of the bytes sent: a resumed upload skips the part only if the file still has them. */
  sha256: string;
}

/** A multipart upload under way: enough to resume it after the process was killed. */
export interface PendingUpload {
  key: string;
  uploadId: string;
  size: number;
  partSize: number;
  startedAt: string;
  parts: UploadedPart[];
}

export interface UploadJournalState {
  uploads: PendingUpload[];
}

/**
 * The multipart uploads in progress, kept in the sync role's state directory
 * (`<stateDir>/s3-uploads.json`, written atomically after every part) so a sidecar killed in
 * the middle of a big file resumes that upload instead of sending every part again. Without a
 * store (a target built for one command) it lives in memory: a pass that failed still resumes
 * in the next pass of the same process.
 *
 * @example
 * const journal = new UploadJournal(new CheckpointStore(path, { version: 1, logger }));
 * const pending = await journal.get("objects/ab/ab12…");
 */
export class UploadJournal {
  readonly #store: CheckpointStore<UploadJournalState> | undefined;
  #uploads: Promise<Map<string, PendingUpload>> | undefined;

  constructor(store?: CheckpointStore<UploadJournalState>) {
    this.#store = store;
  }

  #load(): Promise<Map<string, PendingUpload>> {
    this.#uploads ??= (async () => {
      const state = await this.#store?.load();
      const valid = (state?.uploads ?? []).filter(
        (u) =>
          typeof u?.key === "string" &&
          typeof u.uploadId === "string" &&
          Number.isSafeInteger(u.size) &&
          Number.isSafeInteger(u.partSize) &&
          Array.isArray(u.parts),
      );
      return new Map(valid.map((u) => [u.key, u]));
    })();
    return this.#uploads;
  }

  async all(): Promise<PendingUpload[]> {
    return [...(await this.#load()).values()];
  }

  async get(key: string): Promise<PendingUpload | undefined> {
    return (await this.#load()).get(key);
  }

  /** Records an upload (new, or with one more part) and writes the journal. */
  async set(upload: PendingUpload): Promise<void> {
    const uploads = await this.#load();
    uploads.set(upload.key, upload);
    await this.#save(uploads);
  }

  async remove(key: string): Promise<void> {
    const uploads = await this.#load();
    if (uploads.delete(key)) await this.#save(uploads);
  }

  async #save(uploads: Map<string, PendingUpload>): Promise<void> {
    await this.#store?.save({ uploads: [...uploads.values()] });
  }
}
