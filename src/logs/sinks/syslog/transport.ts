import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { connect, type Socket } from "node:net";

/** Sends encoded syslog messages; a throw means nothing can be assumed sent (retry). */
export interface SyslogTransport {
  close(): Promise<void>;
}

export interface TransportOptions {
  host: string;
  port: number;
  timeoutMs: number;
}

/**
 * TCP with one persistent connection (opened again after any error); the frames come encoded
 * (see createSyslogFramer). A batch counts as sent once the kernel has taken it (syslog has no acks).
 */
export class TcpTransport implements SyslogTransport {
  readonly #options: TransportOptions;
  #socket: Socket | undefined;
  #broken: Error | undefined;

  constructor(options: TransportOptions) {
    this.#options = options;
  }

  /** Writes a batch of framed messages. */
  async send(frames: Buffer, signal: AbortSignal): Promise<void> {
    const socket = await this.#connected(signal);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#reset();
        reject(new Error(`syslog write timed out after ${this.#options.timeoutMs} ms`));
      }, this.#options.timeoutMs);
      socket.write(frames, (error) => {
        clearTimeout(timer);
        if (error) {
          this.#reset();
          reject(error);
        } else if (this.#broken) {
          const broken = this.#broken;
          this.#reset();
          reject(broken);
        } else resolve();
      });
    });
  }

  async close(): Promise<void> {
    const socket = this.#socket;
    this.#socket = undefined;
    if (!socket || socket.destroyed) return;
    await new Promise<void>((resolve) => {
      socket.end(() => resolve());
      setTimeout(() => {
        socket.destroy();
        resolve();
      }, 1000).unref();
    });
  }

  #reset(): void {
    this.#socket?.destroy();
    this.#socket = undefined;
    this.#broken = undefined;
  }

  #connected(signal: AbortSignal): Promise<Socket> {
    if (this.#socket && !this.#broken && !this.#socket.destroyed)
      return Promise.resolve(this.#socket);
    this.#reset();
    return new Promise((resolve, reject) => {
      const { host, port, timeoutMs } = this.#options;
      const socket = connect({ host, port, signal });
      socket.setNoDelay(true);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`syslog connect to ${host}:${port} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once("connect", () => {
        clearTimeout(timer);
        this.#socket = socket;
        socket.on("error", (error) => {
          this.#broken = error;
        });
        socket.on("end", () => {
          this.#broken ??= new Error(`syslog receiver ${host}:${port} closed the connection`);
        });
        socket.on("close", () => {
          this.#broken ??= new Error(`syslog connection to ${host}:${port} closed`);
        });
        socket.on("data", () => {}); // a receiver may talk back; ignore it
        resolve(socket);
      });
      socket.once("error", (error) => {
        clearTimeout(timer);
        socket.destroy();
        reject(error);
      });
    });
  }
}

/** UDP: one datagram per message (cut to maxMessageBytes); sent means handed to the kernel. */
export class UdpTransport implements SyslogTransport {
  readonly #options: TransportOptions & { maxMessageBytes: number };
  #socket: UdpSocket | undefined;

  constructor(options: TransportOptions & { maxMessageBytes: number }) {
    this.#options = options;
  }

  async send(messages: string[]): Promise<void> {
    this.#socket ??= createSocket(this.#options.host.includes(":") ? "udp6" : "udp4");
    const socket = this.#socket;
    for (const message of messages) {
      let data = Buffer.from(message);
      if (data.length > this.#options.maxMessageBytes)
        data = data.subarray(0, this.#options.maxMessageBytes);
      await new Promise<void>((resolve, reject) => {
        socket.send(data, this.#options.port, this.#options.host, (error) =>
          error ? reject(error) : resolve(),
        );
      });
    }
  }

  async close(): Promise<void> {
    const socket = this.#socket;
    this.#socket = undefined;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }
}
