import { createSocket, type Socket as UdpSocket } from "node:dgram";
import { once } from "node:events";
import { type AddressInfo, createServer, type Server, type Socket } from "node:net";

/**
 * A TCP syslog receiver on 127.0.0.1 that reads RFC 6587 octet-counted frames strictly (a
 * malformed frame fails the test through `errors`), or a UDP one (one message per datagram).
 */
export class SyslogReceiver {
  readonly messages: string[] = [];
  readonly errors: string[] = [];
  port = 0;
  #server: Server | undefined;
  #udp: UdpSocket | undefined;
  #sockets = new Set<Socket>();

  async startTcp(port = 0): Promise<this> {
    const server = createServer((socket) => {
      this.#sockets.add(socket);
      socket.on("close", () => this.#sockets.delete(socket));
      let buffer = Buffer.alloc(0);
      socket.on("data", (chunk) => {
        buffer = Buffer.concat([buffer, chunk]);
        for (;;) {
          const space = buffer.indexOf(0x20);
          if (space < 0) break;
          const lengthText = buffer.subarray(0, space).toString("latin1");
          if (!/^[1-9]\d{0,8}$/.test(lengthText)) {
            this.errors.push(`bad frame length "${lengthText.slice(0, 20)}"`);
            socket.destroy();
            return;
          }
          const length = Number(lengthText);
          if (buffer.length < space + 1 + length) break;
          this.messages.push(buffer.subarray(space + 1, space + 1 + length).toString("utf8"));
          buffer = buffer.subarray(space + 1 + length);
        }
      });
    });
    server.listen(port, "127.0.0.1");
    await once(server, "listening");
    this.#server = server;
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  async startUdp(): Promise<this> {
    const socket = createSocket("udp4");
    socket.on("message", (data) => this.messages.push(data.toString("utf8")));
    socket.bind(0, "127.0.0.1");
    await once(socket, "listening");
    this.#udp = socket;
    this.port = socket.address().port;
    return this;
  }

  async stop(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    const server = this.#server;
    this.#server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    const udp = this.#udp;
    this.#udp = undefined;
    if (udp) await new Promise<void>((resolve) => udp.close(() => resolve()));
  }
}
