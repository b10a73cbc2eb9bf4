import { connect } from "node:net";

/** What a client connection got back for a case's bytes. */
export interface PlayedCase {
  /** Every byte the proxy sent, as latin1. */
  received: string;
  /** The proxy closed the connection (else it was still open after the quiet period). */
  closed: boolean;
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Sends `bytes` to 127.0.0.1:`port` on a new connection, in pieces cut at `cuts` (one write
 * each, a turn of the event loop between them), and reads until the proxy closes the
 * connection or sends nothing for `quietMs` after the last write; then closes it.
 */
export async function playCase(
  port: number,
  bytes: Buffer,
  cuts: readonly number[],
  quietMs: number,
): Promise<PlayedCase> {
  const socket = connect(port, "127.0.0.1");
  socket.setNoDelay(true);
  const chunks: Buffer[] = [];
  let closed = false;
  let quiet: NodeJS.Timeout | undefined;
  let settle: () => void = () => {};
  const settled = new Promise<void>((resolve) => {
    settle = resolve;
  });
  const rearm = () => {
    clearTimeout(quiet);
    quiet = setTimeout(settle, quietMs);
  };
  socket.on("data", (chunk: Buffer) => {
    chunks.push(chunk);
    if (quiet !== undefined) rearm();
  });
  socket.on("error", () => {});
  socket.on("close", () => {
    closed = true;
    clearTimeout(quiet);
    settle();
  });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("close", () => reject(new Error(`connection to port ${port} closed`)));
    });
    let from = 0;
    for (const cut of [...cuts, bytes.length]) {
      if (closed) break;
      if (cut > from) socket.write(bytes.subarray(from, cut));
      from = cut;
      await turn();
    }
    if (!closed) rearm();
    await settled;
  } finally {
    clearTimeout(quiet);
    socket.destroy();
  }
  return { received: Buffer.concat(chunks).toString("latin1"), closed };
}
