import { createHash } from "node:crypto";
import { posix } from "node:path";
import { Annotations } from "./annotations.ts";
import { InjectErrorCodes } from "./error-codes.ts";
import { injectError } from "./inject-error.ts";
import type { InjectOptions } from "./inject-options.ts";
import type { InjectionTemplate } from "./injection-template.ts";
import { applyToJson, type PodOperation } from "./pod-operations.ts";
import { sidecarConfigYaml, stateDir } from "./sidecar-config.ts";

/** A Pod template as plain JSON: `{ metadata, spec }` (a Pod, or a workload's template). */
export interface PodTemplate {
  metadata?: { annotations?: Record<string, string>; [key: string]: unknown };
  spec: PodSpec;
}

interface Container {
  name: string;
  command?: unknown[];
  args?: unknown[];
  ports?: { containerPort?: number }[];
  volumeMounts?: unknown[];
  [key: string]: unknown;
}

interface PodSpec {
  containers?: Container[];
  initContainers?: Container[];
  volumes?: { name: string }[];
  hostNetwork?: boolean;
  [key: string]: unknown;
}

/** What the injector added, recorded in the `sidecar.dev/status` annotation for uninject. */
export interface InjectionStatus {
  version: string;
  /** A hash of the options and template: the same hash means nothing to redo. */
  hash: string;
  form: "native" | "classic";
  container: string;
  volumes: string[];
  /** Mounts added to the app's containers: container name → volume names. */
  mounts: Record<string, string[]>;
  /** Keys the injector created (removed again when empty). */
  created: ("metadata" | "annotations" | "initContainers" | "volumes" | `volumeMounts:${string}`)[];
  /** A Job's app container whose command got the exit-file wrapper in front (classic form). */
  wrapped?: { container: string; prefix: number };
}

export interface PlanContext {
  /** The workload's kind: Jobs and CronJobs get an exit arrangement in the classic form. */
  kind: string;
  /** Names the template in messages: `app.yaml: Deployment/web spec.template`. */
  where: string;
  version: string;
}

const adminPort = 9901;
const exitDir = "/var/run/sidecar-exit";

/** The volume the n-th log directory is shared through: a stable, valid name. */
function logsVolumeName(index: number): string {
  return index === 0 ? "sidecar-logs" : `sidecar-logs-${index}`;
}

export function readStatus(pod: PodTemplate, where: string): InjectionStatus | undefined {
  const text = pod.metadata?.annotations?.[Annotations.status];
  if (text === undefined) return undefined;
  try {
    const status = JSON.parse(text) as InjectionStatus;
    if (typeof status.container !== "string" || !Array.isArray(status.volumes))
      throw new Error("incomplete");
    return status;
  } catch {
    throw injectError(
      InjectErrorCodes.INVALID,
      `${where}: annotation ${Annotations.status} is not what sidecar inject writes; remove it to inject again`,
    );
  }
}

/**
 * The operations that inject the sidecar into `pod`, or none when it is already injected with
 * the same options and version (injecting twice changes nothing). Refuses conflicts with a
 * path-named SidecarError and never returns a half plan.
 */
export function planInjection(
  pod: PodTemplate,
  options: InjectOptions,
  template: InjectionTemplate,
  context: PlanContext,
): PodOperation[] {
  const hash = createHash("sha256")
    .update(JSON.stringify({ options, template, version: context.version }))
    .digest("hex")
    .slice(0, 16);
  const existing = readStatus(pod, context.where);
  if (existing?.hash === hash) return [];
  let base = pod;
  const operations: PodOperation[] = [];
  if (existing) {
    // Injected before with other options: take it out, then inject anew.
    const undo = planUninjection(pod, context.where);
    base = structuredClone(pod);
    applyToJson(base, undo);
    operations.push(...undo);
  }
  operations.push(...planFresh(base, options, template, context, hash));
  return operations;
}

function planFresh(
  pod: PodTemplate,
  options: InjectOptions,
  template: InjectionTemplate,
  context: PlanContext,
  hash: string,
): PodOperation[] {
  const { where } = context;
  const spec = pod.spec;
  const name = String(template.container.name);
  const containers = spec.containers ?? [];
  if (spec.hostNetwork)
    throw injectError(
      InjectErrorCodes.CONFLICT,
      `${where} spec.hostNetwork: a Pod on the node's network cannot have a sidecar on 127.0.0.1 (its ports would be the node's)`,
    );
  if (containers.length === 0)
    throw injectError(
      InjectErrorCodes.INVALID,
      `${where} spec.containers: the Pod has no container`,
    );
  for (const [list, items] of [
    ["containers", containers],
    ["initContainers", spec.initContainers ?? []],
  ] as const)
    items.forEach((container, i) => {
      if (container.name === name)
        throw injectError(
          InjectErrorCodes.CONFLICT,
          `${where} spec.${list}[${i}]: a container named "${name}" already exists (and no ${Annotations.status} says sidecar inject added it)`,
        );
    });
  const sidecarPorts = [
    adminPort,
    ...(options.roles.includes("proxy") && !options.configMap ? [options.proxyListenPort] : []),
  ];
  if (options.appPort !== undefined && sidecarPorts.includes(options.appPort))
    throw injectError(
      InjectErrorCodes.INVALID,
      `${where}: the app's port ${options.appPort} is one the sidecar listens on (${sidecarPorts.join(", ")}); choose another --proxy-listen-port`,
    );
  containers.forEach((container, i) => {
    (container.ports ?? []).forEach((port, j) => {
      if (port.containerPort !== undefined && sidecarPorts.includes(port.containerPort))
        throw injectError(
          InjectErrorCodes.CONFLICT,
          `${where} spec.containers[${i}].ports[${j}]: port ${port.containerPort} is taken by the sidecar (admin ${adminPort}${sidecarPorts.length > 1 ? `, proxy ${options.proxyListenPort}` : ""})`,
        );
    });
  });

  const form = options.classic ? "classic" : "native";
  const isJob = context.kind === "Job" || context.kind === "CronJob";
  const logDirs = options.configMap
    ? []
    : [...new Set(options.logPaths.map((p) => posix.dirname(p)))];
  const volumes: Record<string, unknown>[] = [
    { name: "sidecar-state", emptyDir: {} },
    ...logDirs.map((_dir, i) => ({ name: logsVolumeName(i), emptyDir: {} })),
    ...(options.configMap
      ? [{ name: "sidecar-config", configMap: { name: options.configMap } }]
      : []),
    ...(isJob && form === "classic" ? [{ name: "sidecar-exit", emptyDir: {} }] : []),
    ...template.volumes,
  ];
  const taken = new Set((spec.volumes ?? []).map((v) => v.name));
  volumes.forEach((volume) => {
    if (taken.has(String(volume.name)))
      throw injectError(
        InjectErrorCodes.CONFLICT,
        `${where} spec.volumes: a volume named "${String(volume.name)}" already exists; the sidecar needs that name`,
      );
  });

  const status: InjectionStatus = {
    version: context.version,
    hash,
    form,
    container: name,
    volumes: volumes.map((v) => String(v.name)),
    mounts: {},
    created: [],
  };
  const operations: PodOperation[] = [];

  // The app's containers share the log directories (and, for a classic Job, the exit file).
  const appMounts = [...logDirs.map((dir, i) => ({ name: logsVolumeName(i), mountPath: dir }))];
  let wrapped: InjectionStatus["wrapped"];
  if (isJob && form === "classic") {
    const main = containers[0]!;
    if (!main.command?.length)
      throw injectError(
        InjectErrorCodes.CONFLICT,
        `${where} spec.containers[0].command: a classic sidecar in a Job ends when the app's container tells it; that needs the container's command written out (or use the native form, without --classic, on Kubernetes ≥ 1.29)`,
      );
    wrapped = { container: main.name, prefix: 4 };
  }
  containers.forEach((container, i) => {
    const mounts = [
      ...appMounts,
      ...(wrapped && i === 0 ? [{ name: "sidecar-exit", mountPath: exitDir }] : []),
    ];
    if (mounts.length === 0) return;
    status.mounts[container.name] = mounts.map((m) => m.name);
    if (container.volumeMounts)
      for (const mount of mounts)
        operations.push({
          op: "insert",
          path: ["spec", "containers", i, "volumeMounts"],
          index: -1,
          value: mount,
        });
    else {
      status.created.push(`volumeMounts:${container.name}`);
      operations.push({
        op: "add",
        path: ["spec", "containers", i, "volumeMounts"],
        value: mounts,
      });
    }
  });
  if (wrapped) {
    // sh runs the command (its args follow as "$@"), then creates the exit file whatever the
    // outcome and keeps the code. Put in front of the command, so the rest stays as written.
    const wrapper = ["/bin/sh", "-c", `"$@"; code=$?; touch ${exitDir}/done; exit $code`, "--"];
    wrapper.forEach((value, index) => {
      operations.push({ op: "insert", path: ["spec", "containers", 0, "command"], index, value });
    });
    status.wrapped = wrapped;
  }

  const container = sidecarContainer(options, template, {
    where,
    form,
    logDirs,
    exitFile: wrapped ? `${exitDir}/done` : undefined,
  });
  if (form === "native") {
    if (spec.initContainers)
      operations.push({
        op: "insert",
        path: ["spec", "initContainers"],
        index: 0,
        value: container,
      });
    else {
      status.created.push("initContainers");
      operations.push({ op: "add", path: ["spec", "initContainers"], value: [container] });
    }
  } else
    operations.push({ op: "insert", path: ["spec", "containers"], index: -1, value: container });

  if (spec.volumes)
    for (const volume of volumes)
      operations.push({ op: "insert", path: ["spec", "volumes"], index: -1, value: volume });
  else {
    status.created.push("volumes");
    operations.push({ op: "add", path: ["spec", "volumes"], value: volumes });
  }

  const statusText = JSON.stringify(status);
  if (!pod.metadata) {
    status.created.push("metadata");
    operations.push({
      op: "add",
      path: ["metadata"],
      value: { annotations: { [Annotations.status]: JSON.stringify(status) } },
    });
  } else if (!pod.metadata.annotations) {
    status.created.push("annotations");
    operations.push({
      op: "add",
      path: ["metadata", "annotations"],
      value: { [Annotations.status]: JSON.stringify(status) },
    });
  } else
    operations.push({
      op: "add",
      path: ["metadata", "annotations", Annotations.status],
      value: statusText,
    });
  return operations;
}

function sidecarContainer(
  options: InjectOptions,
  template: InjectionTemplate,
  {
    where,
    form,
    logDirs,
    exitFile,
  }: { where: string; form: "native" | "classic"; logDirs: string[]; exitFile: string | undefined },
): Record<string, unknown> {
  const { name, image, args, env, volumeMounts, ports, ...rest } = template.container;
  const configEnv = options.configMap
    ? [{ name: "SIDECAR_CONFIG", value: "/etc/sidecar/sidecar.yaml" }]
    : [{ name: "SIDECAR_CONFIG_YAML", value: sidecarConfigYaml(options, where, exitFile) }];
  return {
    name,
    image: options.image ?? image,
    args: args ?? ["start"],
    ...(form === "native" ? { restartPolicy: "Always" } : {}),
    ports: [
      ...((ports as unknown[] | undefined) ?? []),
      { name: "sidecar-admin", containerPort: adminPort },
      ...(options.roles.includes("proxy") && !options.configMap
        ? [{ name: "sidecar-proxy", containerPort: options.proxyListenPort }]
        : []),
    ],
    env: [
      ...((env as unknown[] | undefined) ?? []),
      { name: "SIDECAR_ADMIN_ADDRESS", value: `0.0.0.0:${adminPort}` },
      ...configEnv,
    ],
    volumeMounts: [
      ...((volumeMounts as unknown[] | undefined) ?? []),
      { name: "sidecar-state", mountPath: stateDir },
      ...logDirs.map((dir, i) => ({
        name: logsVolumeName(i),
        mountPath: dir,
        readOnly: true,
      })),
      ...(options.configMap
        ? [{ name: "sidecar-config", mountPath: "/etc/sidecar", readOnly: true }]
        : []),
      ...(exitFile ? [{ name: "sidecar-exit", mountPath: exitDir, readOnly: true }] : []),
    ],
    ...rest,
  };
}

/** The operations that take out what `planInjection` added (from the status annotation). */
export function planUninjection(pod: PodTemplate, where: string): PodOperation[] {
  const status = readStatus(pod, where);
  if (!status) return [];
  const spec = pod.spec;
  const operations: PodOperation[] = [];
  const containers = spec.containers ?? [];
  // Removals run from the end of each list, so earlier indexes stay valid.
  containers.forEach((container, i) => {
    const added = status.mounts[container.name];
    if (!added) return;
    if (status.created.includes(`volumeMounts:${container.name}`))
      operations.push({ op: "remove", path: ["spec", "containers", i, "volumeMounts"] });
    else
      (container.volumeMounts ?? [])
        .map((mount, j) => ({ mount: mount as { name?: string }, j }))
        .filter(({ mount }) => added.includes(String(mount.name)))
        .reverse()
        .forEach(({ j }) => {
          operations.push({ op: "remove", path: ["spec", "containers", i, "volumeMounts", j] });
        });
  });
  if (status.wrapped) {
    const i = containers.findIndex((c) => c.name === status.wrapped!.container);
    if (i >= 0)
      for (let n = 0; n < status.wrapped.prefix; n++)
        operations.push({ op: "remove", path: ["spec", "containers", i, "command", 0] });
  }
  const listName = status.form === "native" ? "initContainers" : "containers";
  const list = (spec[listName] as Container[] | undefined) ?? [];
  const index = list.findIndex((c) => c.name === status.container);
  if (status.created.includes("initContainers") && list.length === 1 && index === 0)
    operations.push({ op: "remove", path: ["spec", listName] });
  else if (index >= 0) operations.push({ op: "remove", path: ["spec", listName, index] });
  const volumes = spec.volumes ?? [];
  const remaining = volumes.filter((v) => !status.volumes.includes(v.name));
  if (status.created.includes("volumes") && remaining.length === 0)
    operations.push({ op: "remove", path: ["spec", "volumes"] });
  else
    volumes
      .map((volume, j) => ({ volume, j }))
      .filter(({ volume }) => status.volumes.includes(volume.name))
      .reverse()
      .forEach(({ j }) => {
        operations.push({ op: "remove", path: ["spec", "volumes", j] });
      });
  if (
    status.created.includes("metadata") &&
    Object.keys(pod.metadata ?? {}).length === 1 &&
    Object.keys(pod.metadata?.annotations ?? {}).length === 1
  )
    operations.push({ op: "remove", path: ["metadata"] });
  else if (
    status.created.includes("annotations") &&
    Object.keys(pod.metadata?.annotations ?? {}).length === 1
  )
    operations.push({ op: "remove", path: ["metadata", "annotations"] });
  else operations.push({ op: "remove", path: ["metadata", "annotations", Annotations.status] });
  return operations;
}
