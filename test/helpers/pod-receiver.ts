import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { KubeObject } from "./kube-pod.ts";

/**
 * Adds an NDJSON receiver container to a Pod spec (on the Pod's loopback, `port`), appending
 * every line it gets to `dir`/lines.ndjson on the host (a hostPath the test owns).
 */
export function addReceiver(
  spec: KubeObject,
  port: number,
  { image, dir }: { image: string; dir: string },
): void {
  const script = `
    const fs = require("node:fs");
    require("node:http").createServer((req, res) => {
      const chunks = [];
      req.on("data", (c) => chunks.push(c));
      req.on("end", () => {
        fs.appendFileSync("/received/lines.ndjson", Buffer.concat(chunks));
        res.end("ok");
      });
    }).listen(${port}, "127.0.0.1");
    // Outlive the sidecar's final flush at shutdown.
    process.on("SIGTERM", () => setTimeout(() => process.exit(0), 3000));`;
  spec.containers.push({
    name: "receiver",
    image,
    imagePullPolicy: "IfNotPresent",
    command: ["node", "-e", script],
    securityContext: { readOnlyRootFilesystem: true, runAsUser: 10001 },
    volumeMounts: [{ name: "received", mountPath: "/received" }],
  });
  spec.volumes ??= [];
  spec.volumes.push({ name: "received", hostPath: { path: dir, type: "Directory" } });
}

/** The events the receiver of `dir` got so far. */
export async function receivedEvents(dir: string): Promise<Record<string, unknown>[]> {
  const text = await readFile(join(dir, "lines.ndjson"), "utf8").catch(() => "");
  return text
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
