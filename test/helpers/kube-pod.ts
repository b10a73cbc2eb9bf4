import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { parseAllDocuments, stringify } from "yaml";
import { podman } from "./podman.ts";
import { requireTool } from "./require-tool.ts";

const run = promisify(execFile);
const root = new URL("../../", import.meta.url).pathname;

/** A Kubernetes object as YAML parses it. */
// biome-ignore lint/suspicious/noExplicitAny: manifests are untyped YAML; the tests poke into them.
export type KubeObject = Record<string, any>;

/** `kubectl kustomize DIR` (DIR relative to the repository), parsed. */
export async function kustomize(dir: string): Promise<KubeObject[]> {
  const kubectl = requireTool("kubectl");
  const { stdout } = await run(kubectl, ["kustomize", join(root, dir)], {
    maxBuffer: 16 * 1024 * 1024,
  }).catch((error: { stderr?: string }) => {
    throw new Error(`kubectl kustomize ${dir} failed: ${error.stderr ?? String(error)}`);
  });
  return parseAllDocuments(stdout).map((doc) => doc.toJS() as KubeObject);
}

/** The Pod template of the one Deployment in `objects`. */
export function podSpec(objects: KubeObject[]): KubeObject {
  const deployment = objects.find((o) => o.kind === "Deployment");
  if (!deployment) throw new Error("No Deployment in the rendering");
  return deployment.spec.template.spec;
}

/** The container named `name` (under containers or initContainers). */
export function container(spec: KubeObject, name: string): KubeObject {
  const found = [...(spec.initContainers ?? []), ...spec.containers].find(
    (c: KubeObject) => c.name === name,
  );
  if (!found) throw new Error(`No container "${name}"`);
  return found;
}

/** Publishes a container port on 127.0.0.1:hostPort (the test reaches the Pod over loopback). */
export function publish(c: KubeObject, containerPort: number, hostPort: number): void {
  const port = (c.ports ?? []).find((p: KubeObject) => p.containerPort === containerPort);
  if (!port) throw new Error(`Container "${c.name}" has no port ${containerPort}`);
  Object.assign(port, { hostPort, hostIP: "127.0.0.1" });
}

/** Sets (or adds) an environment variable of a container. */
export function setEnv(c: KubeObject, name: string, value: string): void {
  c.env ??= [];
  const entry = c.env.find((e: KubeObject) => e.name === name);
  if (entry) {
    delete entry.valueFrom;
    entry.value = value;
  } else c.env.push({ name, value });
}

/** A Pod started with `podman kube play`; `down()` is `podman kube down` and is idempotent. */
export interface PlayedPod {
  /** `node -e SCRIPT` inside a running container; resolves with its stdout. */
  nodeEval(name: string, script: string): Promise<string>;
  /** The container's output so far. */
  logs(name: string): Promise<string>;
  /** The container's exit code (after it stopped). */
  exitCode(name: string): Promise<number>;
  /**
   * SIGTERM to every container, SIGKILL to those still running after podman's stop timeout
   * (10 s): the first step of `podman kube down`, which then removes the Pod and its output.
   */
  stop(): Promise<void>;
  /** `podman kube down`; idempotent. */
  down(): Promise<void>;
}

/**
 * Writes `objects` to DIR/NAME.yaml, after renaming the Deployment to `name` (unique per test,
 * so parallel runs do not collide), and plays it. Always call `down()` in a finally.
 */
export async function playPod(
  dir: string,
  name: string,
  objects: KubeObject[],
): Promise<PlayedPod> {
  const deployment = objects.find((o) => o.kind === "Deployment");
  if (!deployment) throw new Error("No Deployment to play");
  deployment.metadata.name = name;
  // podman runs Pods, Deployments and ConfigMaps; a Service means nothing to it.
  const playable = objects.filter((o) => o.kind !== "Service");
  // podman keeps a volume per ConfigMap after `kube down`: name them for this Pod, remove them.
  const configMaps = new Map<string, string>();
  for (const o of playable.filter((o) => o.kind === "ConfigMap")) {
    configMaps.set(o.metadata.name, `${name}-${o.metadata.name}`);
    o.metadata.name = `${name}-${o.metadata.name}`;
  }
  const spec = deployment.spec.template.spec;
  for (const volume of spec.volumes ?? [])
    if (volume.configMap)
      volume.configMap.name = configMaps.get(volume.configMap.name) ?? volume.configMap.name;
  // podman 4.3 applies the Pod's restartPolicy (Always, a Deployment's only one) to init
  // containers too, restarting one that finished; OnFailure keeps "run to completion".
  if (spec.initContainers?.length) spec.restartPolicy = "OnFailure";
  // podman's Downward API has metadata.name but neither the namespace nor the node: give
  // those env vars the values a kubelet would ("default", this machine's name).
  for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
    for (const env of c.env ?? []) {
      const field = env.valueFrom?.fieldRef?.fieldPath;
      if (field === "metadata.namespace") setEnv(c, env.name, "default");
      if (field === "spec.nodeName") setEnv(c, env.name, hostname());
    }
  }
  const file = join(dir, `${name}.yaml`);
  await writeFile(file, playable.map((o) => stringify(o)).join("---\n"));
  const podName = `${name}-pod-0`;
  let isDown = false;
  const pod: PlayedPod = {
    nodeEval: async (c, script) =>
      (await podman(["exec", `${podName}-${c}`, "node", "-e", script])).stdout,
    logs: async (c) => {
      const { stdout, stderr } = await podman(["logs", `${podName}-${c}`]);
      return stdout + stderr;
    },
    exitCode: async (c) =>
      Number(
        (await podman(["inspect", "--format", "{{.State.ExitCode}}", `${podName}-${c}`])).stdout,
      ),
    stop: async () => {
      await podman(["pod", "stop", podName]);
    },
    down: async () => {
      if (isDown) return;
      isDown = true;
      try {
        await podman(["kube", "down", file]);
      } finally {
        for (const volume of configMaps.values())
          await podman(["volume", "rm", "--force", volume]).catch(() => {});
      }
    },
  };
  try {
    await podman(["kube", "play", file]);
  } catch (error) {
    await pod.down().catch(() => {});
    throw error;
  }
  return pod;
}
