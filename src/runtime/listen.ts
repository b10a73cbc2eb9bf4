import type { Server } from "node:net";
import { formatAddress, type ListenAddress } from "./config/address.ts";
import { ErrorCodes, SidecarError } from "./errors.ts";

/**
 * Starts `server` listening on `address`; a port already in use or a refused address becomes
 * a SidecarError naming the port and `owner` (who wanted it).
 */
export function listenOn(
  server: Server,
  address: ListenAddress,
  owner: string,
): Promise<ListenAddress> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off("listening", onListening);
      const where = formatAddress(address);
      if (error.code === "EADDRINUSE") {
        reject(
          new SidecarError(
            ErrorCodes.PORT_IN_USE,
            `${owner} cannot listen on ${where}: port ${address.port} is already in use by another process; stop it or choose another port`,
            { cause: error },
          ),
        );
      } else {
        reject(
          new SidecarError(
            ErrorCodes.LISTEN,
            `${owner} cannot listen on ${where}: ${error.code ?? error.message}`,
            {
              cause: error,
            },
          ),
        );
      }
    };
    const onListening = () => {
      server.off("error", onError);
      const bound = server.address();
      resolve(
        typeof bound === "object" && bound ? { host: address.host, port: bound.port } : address,
      );
    };
    server.once("error", onError);
    server.once("listening", onListening);
    server.listen({ host: address.host, port: address.port });
  });
}

/** Whether a socket's remote address is loopback (127.0.0.0/8, ::1, or v4-mapped loopback). */
export function isLoopback(remoteAddress: string | undefined): boolean {
  if (!remoteAddress) return false;
  if (remoteAddress === "::1") return true;
  const v4 = remoteAddress.startsWith("::ffff:") ? remoteAddress.slice(7) : remoteAddress;
  return v4.startsWith("127.");
}
