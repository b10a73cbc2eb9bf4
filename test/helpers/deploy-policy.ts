/**
 * What every Pod the project ships must have (issue "Deploy it"), checked on each manifest and
 * each kustomize rendering: requests and limits; probes on the sidecar's admin port; a locked
 * down securityContext; a grace period that covers the drain; the Downward API env the roles
 * read; and images named as deploy/image/build-test-image.sh tags them.
 */
// biome-ignore lint/suspicious/noExplicitAny: manifests are untyped YAML.
type KubeObject = Record<string, any>;

const podKinds = new Set(["Pod", "Deployment", "DaemonSet", "StatefulSet", "Job"]);
const downwardEnv = ["POD_NAME", "POD_NAMESPACE", "NODE_NAME"];

/** The Pod spec inside a workload object, or undefined for other kinds. */
export function podSpecOf(object: KubeObject): KubeObject | undefined {
  if (!podKinds.has(object.kind)) return undefined;
  return object.kind === "Pod" ? object.spec : object.spec?.template?.spec;
}

/** The sidecar's commands that run roles (the ones reading the Downward API env). */
const roleCommands = new Set([
  "start",
  "run",
  "proxy",
  "logs",
  "config",
  "metrics",
  "sync",
  "node",
]);

function runsRoles(c: KubeObject): boolean {
  const image = c.image;
  const command = (c.command ?? c.args ?? [])[0];
  return typeof image === "string" && /\/sidecar:/.test(image) && roleCommands.has(command);
}

/** Every way `object` breaks the policy, as "NAME: problem"; empty when it holds. */
export function policyProblems(object: KubeObject, version: string): string[] {
  const spec = podSpecOf(object);
  if (!spec) return [];
  const problems: string[] = [];
  const where = `${object.kind} ${object.metadata?.name}`;
  const grace = spec.terminationGracePeriodSeconds;
  if (typeof grace !== "number" || grace < 30)
    problems.push(`${where}: terminationGracePeriodSeconds must cover the 20 s drain (>= 30)`);
  const pod = spec.securityContext ?? {};
  if (pod.runAsNonRoot !== true) problems.push(`${where}: securityContext.runAsNonRoot`);
  if (pod.seccompProfile?.type !== "RuntimeDefault")
    problems.push(`${where}: securityContext.seccompProfile RuntimeDefault`);

  const init: KubeObject[] = spec.initContainers ?? [];
  const all = [
    ...init.map((c) => ({ c, init: true })),
    ...spec.containers.map((c: KubeObject) => ({ c, init: false })),
  ];
  for (const { c, init: isInit } of all) {
    const at = `${where} container ${c.name}`;
    if (typeof c.image !== "string" || !c.image.endsWith(`:${version}`))
      problems.push(`${at}: image "${c.image}" is not tagged ${version}`);
    for (const kind of ["requests", "limits"])
      for (const resource of ["cpu", "memory"])
        if (!c.resources?.[kind]?.[resource]) problems.push(`${at}: resources.${kind}.${resource}`);
    const sc = c.securityContext ?? {};
    if (sc.allowPrivilegeEscalation !== false)
      problems.push(`${at}: allowPrivilegeEscalation: false`);
    if (sc.readOnlyRootFilesystem !== true) problems.push(`${at}: readOnlyRootFilesystem: true`);
    if (!sc.capabilities?.drop?.includes("ALL")) problems.push(`${at}: capabilities.drop [ALL]`);
    if ((sc.runAsNonRoot ?? pod.runAsNonRoot) !== true) problems.push(`${at}: runAsNonRoot`);
    if (typeof (sc.runAsUser ?? pod.runAsUser) !== "number")
      problems.push(`${at}: a fixed runAsUser`);

    const longRunning = !isInit || c.restartPolicy === "Always";
    const probes = ["startupProbe", "readinessProbe", "livenessProbe"];
    if (!longRunning) {
      // Kubernetes refuses probes on init containers that run to completion.
      for (const probe of probes)
        if (c[probe]) problems.push(`${at}: a run-once init container cannot have ${probe}`);
    } else {
      for (const probe of probes) if (!c[probe]) problems.push(`${at}: ${probe}`);
    }
    if (runsRoles(c)) {
      const names = new Set(
        (c.env ?? [])
          .filter((e: KubeObject) => e.valueFrom?.fieldRef)
          .map((e: KubeObject) => e.name),
      );
      for (const name of downwardEnv)
        if (!names.has(name)) problems.push(`${at}: env ${name} from the Downward API`);
      if (longRunning)
        for (const probe of probes) {
          const get = c[probe]?.httpGet;
          if (
            !get ||
            !["admin", 9901].includes(get.port) ||
            !["/healthz", "/readyz"].includes(get.path)
          )
            problems.push(`${at}: ${probe} must GET /healthz or /readyz on the admin port`);
        }
    }
  }
  return problems;
}
