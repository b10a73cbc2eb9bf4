import { once } from "node:events";
import http from "node:http";
import { createRequire } from "node:module";
import type { AddressInfo, Socket } from "node:net";
import type { TestContext } from "node:test";
import S3rver from "s3rver";
import { tempDir } from "./sync-fixture.ts";

const require = createRequire(import.meta.url);

/** Credentials the test server accepts; distinctive, so a test can prove they are never logged. */
export const testCredentials = {
  accessKeyId: "AKIASIDECARSYNCTEST1",
  secretAccessKey: "sEcReT/sidecar-sync-test-key-do-not-log",
};

export interface TestS3 {
  /** The endpoint clients use: a recording pass-through in front of the server. */
  endpoint: string;
  bucket: string;
  /** Every request so far, as "METHOD /path?query". */
  requests: string[];
  /** The x-amz-server-side-encryption header of every request that had one, with its request. */
  encrypted: string[];
  /** Refuses connections from now on (the target is unreachable); `start()` brings it back. */
  stop(): Promise<void>;
  start(): Promise<void>;
}

/**
 * A real S3-protocol server (s3rver) on 127.0.0.1 with one bucket, behind a pass-through that
 * records requests and can be taken down; both stop when the test ends. It accepts
 * `testCredentials` (s3rver does not check SigV4 signatures).
 */
export async function startTestS3(t: TestContext, bucket = "sidecar-backups"): Promise<TestS3> {
  const directory = await tempDir(t, "s3");
  const account = require("s3rver/lib/models/account.js") as {
    DUMMY_ACCOUNT: { createKeyPair(id: string, secret: string): void };
  };
  account.DUMMY_ACCOUNT.createKeyPair(testCredentials.accessKeyId, testCredentials.secretAccessKey);
  const server = new S3rver({
    address: "127.0.0.1",
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket, configs: [] }],
  });
  const { port: serverPort } = await server.run();
  t.after(() => server.close());
  const requests: string[] = [];
  const encrypted: string[] = [];
  const sockets = new Set<Socket>();
  const front = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const sse = req.headers["x-amz-server-side-encryption"];
    if (sse) encrypted.push(`${req.method} ${req.url} ${String(sse)}`);
    const upstream = http.request(
      {
        host: "127.0.0.1",
        port: serverPort,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (response) => {
        res.writeHead(response.statusCode ?? 502, response.headers);
        response.pipe(res);
      },
    );
    upstream.on("error", () => res.destroy());
    // A client killed in the middle of a body (kill -9 during an upload) must not leave the
    // server waiting for the rest of it: that request would hold the server's close forever.
    req.on("close", () => {
      if (!req.complete) upstream.destroy();
    });
    req.pipe(upstream);
  });
  front.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  let port = 0;
  const start = async () => {
    front.listen(port, "127.0.0.1");
    await once(front, "listening");
    port = (front.address() as AddressInfo).port;
  };
  const stop = async () => {
    if (!front.listening) return;
    const closed = once(front, "close");
    front.close();
    for (const socket of sockets) socket.destroy();
    await closed;
  };
  await start();
  t.after(stop);
  return { endpoint: `http://127.0.0.1:${port}`, bucket, requests, encrypted, stop, start };
}
