import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Etcd3 } from "etcd3";
import { freePort, until } from "../../src/runtime/testing.ts";
import { requireTool } from "./require-tool.ts";

export interface EtcdServer {
  /** `http://127.0.0.1:PORT`, where it serves clients now. */
  readonly endpoint: string;
  /** A client of the test's own (puts, deletes, compactions). */
  readonly client: Etcd3;
  /** Stops etcd (SIGTERM); the data directory stays. */
  stop(): Promise<void>;
  /** Starts it again on the same data directory, on `port` (default the same one). */
  start(port?: number): Promise<void>;
  /** Stops it and removes the data directory. */
  close(): Promise<void>;
}

/** Starts Debian's etcd on loopback with a temporary data directory and free ports. */
export async function startEtcd(): Promise<EtcdServer> {
  const etcd = requireTool("etcd");
  const dataDir = await mkdtemp(join(tmpdir(), "etcd-test-"));
  const peerPort = await freePort();
  let clientPort = await freePort();
  let child: ChildProcess | undefined;
  let client: Etcd3 | undefined;
  let stderr = "";
  const server: EtcdServer = {
    get endpoint() {
      return `http://127.0.0.1:${clientPort}`;
    },
    get client() {
      return client!;
    },
    async start(port = clientPort) {
      clientPort = port;
      const peer = `http://127.0.0.1:${peerPort}`;
      child = spawn(
        etcd,
        [
          "--name=test",
          `--data-dir=${dataDir}`,
          `--listen-client-urls=${server.endpoint}`,
          `--advertise-client-urls=${server.endpoint}`,
          `--listen-peer-urls=${peer}`,
          `--initial-advertise-peer-urls=${peer}`,
          `--initial-cluster=test=${peer}`,
          "--log-level=error",
        ],
        { stdio: ["ignore", "ignore", "pipe"] },
      );
      child.stderr!.on("data", (chunk: Buffer) => {
        stderr = (stderr + chunk).slice(-4000);
      });
      client?.close();
      client = new Etcd3({ hosts: server.endpoint });
      await until(
        async () => {
          if (child?.exitCode !== null) throw new Error(`etcd exited: ${stderr}`);
          await client!.get("ping").string();
          return true;
        },
        "etcd to serve",
        20_000,
        50,
      );
    },
    async stop() {
      client?.close();
      client = undefined;
      if (child && child.exitCode === null) {
        const exited = once(child, "exit");
        child.kill("SIGTERM");
        await exited;
      }
    },
    async close() {
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
  try {
    await server.start();
  } catch (error) {
    await server.close();
    throw error;
  }
  return server;
}
