/** Buffer's own unchecked writer (what `write(text, offset, "utf8")` calls after its checks). */
interface RawWrites {
  utf8Write(text: string, offset: number): number;
}

/**
 * Appends text and bytes to one growing Buffer, for encoders that build a whole batch's body
 * without concatenating strings (turning a long concatenated string into bytes costs more than
 * building it).
 *
 * @example
 * const writer = new ByteWriter(1024);
 * writer.utf8("héllo");
 * writer.byte(0x0a);
 * writer.finish(); // <Buffer 68 c3 a9 6c 6c 6f 0a>
 */
export class ByteWriter {
  /** The bytes so far are `buffer[0, offset)`; callers that reserve() first may write directly. */
  buffer: Buffer;
  offset = 0;

  /** Writes into `spare` (a Buffer given back by its last user) when it holds `capacity` bytes. */
  constructor(capacity: number, spare?: Buffer) {
    // Not from Node's shared pool: a finished body owns its memory, so it can be given back.
    this.buffer =
      spare && spare.length >= capacity ? spare : Buffer.allocUnsafeSlow(Math.max(64, capacity));
  }

  /** Makes room for `bytes` more bytes. */
  reserve(bytes: number): void {
    if (this.offset + bytes <= this.buffer.length) return;
    const grown = Buffer.allocUnsafeSlow(Math.max(this.buffer.length * 2, this.offset + bytes));
    this.buffer.copy(grown, 0, 0, this.offset);
    this.buffer = grown;
  }

  byte(byte: number): void {
    this.reserve(1);
    this.buffer[this.offset++] = byte;
  }

  bytes(bytes: Uint8Array): void {
    this.reserve(bytes.length);
    this.buffer.set(bytes, this.offset);
    this.offset += bytes.length;
  }

  /** Copies `length` bytes written earlier, from `start`, to the end. */
  repeat(start: number, length: number): void {
    this.reserve(length);
    this.buffer.copyWithin(this.offset, start, start + length);
    this.offset += length;
  }

  utf8(text: string): void {
    this.reserve(text.length * 3); // a UTF-16 code unit takes at most 3 bytes
    this.offset += (this.buffer as unknown as RawWrites).utf8Write(text, this.offset);
  }

  /** The bytes written (a view of the buffer, which the writer no longer touches). */
  finish(): Buffer {
    const out = this.buffer.subarray(0, this.offset);
    this.buffer = Buffer.alloc(0);
    this.offset = 0;
    return out;
  }
}
