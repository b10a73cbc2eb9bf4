import type { Endpoint } from "../cluster/endpoint.ts";
import type { DownstreamRequest } from "../downstream/downstream.ts";
import type { TryFailure } from "../upstream-errors.ts";

/** One try's request, as the forwarder prepared it. */
export interface TryRequest {
  method: string;
  /** Request target (origin-form), bytes as received. */
  path: string;
  /** Raw [name, value, …] pairs, hop-by-hop already removed. */
  headers: string[];
  /** The body: streamed from the downstream request, or buffered whole; undefined when none. */
  body: DownstreamRequest | Buffer | undefined;
  connectTimeoutMs: number;
  /** No body bytes from the upstream for this long → error "timeout". */
  bodyIdleMs: number;
}

/** What a transport reports about one try; the forwarder implements it. */
export interface TryCallbacks {
  /** The upstream sent 100 Continue. */
  onContinue(): void;
  /** The upstream sent another interim response (103 Early Hints is relayed). */
  onInfo(status: number, rawHeaders: string[]): void;
  /**
   * Response head. `contentLength` is the number of body bytes the transport will deliver,
   * exactly (for HEAD and 304: the validated length the upstream declared); undefined when the
   * body is chunked, close-delimited or absent (204). Return false to discard the response (its
   * body is dropped, e.g. for a retry).
   */
  onHead(
    status: number,
    message: string,
    rawHeaders: string[],
    contentLength: number | undefined,
  ): boolean;
  /**
   * A body chunk; return false when the client is full (the transport pauses until resume()).
   * `view`: the chunk is a view of a read buffer the transport reuses, valid only during the
   * call (copy it to keep it).
   */
  onData(chunk: Buffer, view: boolean): boolean;
  /**
   * The response is complete. `lastChunk`: the body's last bytes when the transport held them
   * back from onData to be written with the end (not counted by onData), valid only during
   * the call: it may be a view of a read buffer the transport reuses (copy it to keep it).
   */
  onEnd(rawTrailers: string[], lastChunk?: Buffer): void;
  /** Request body bytes sent upstream. */
  onBodySent(bytes: number): void;
  /** The try failed; `afterHead` when the response had already started. */
  onError(failure: TryFailure, detail: string, afterHead: boolean): void;
}

export interface TryHandle {
  /** Stops the try; no callback follows. */
  abort(): void;
  /** Resumes a response paused by onData returning false. */
  resume(): void;
}

/** Sends one try to one endpoint. */
export type UpstreamTransport = (
  endpoint: Endpoint,
  request: TryRequest,
  callbacks: TryCallbacks,
) => TryHandle;
