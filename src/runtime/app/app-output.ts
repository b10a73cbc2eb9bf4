/**
 * Where the app's stdout/stderr go besides the terminal (the logs role's `stdout` source).
 * The app's output is always passed through; a tap that returns false from `write` pauses the
 * app's pipe until it calls the `onDrain` listener (bounded memory, nothing dropped).
 */
export interface AppOutputTap {
  write(stream: "stdout" | "stderr", chunk: Buffer): boolean;
  /** Registers the listener called when a tap that returned false has room again. */
  onDrain(listener: () => void): void;
  /** One run of the app ended: whatever is held of an unfinished line is complete. */
  end(stream: "stdout" | "stderr"): void;
}
