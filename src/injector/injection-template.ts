import { parse } from "yaml";
import { InjectErrorCodes } from "./error-codes.ts";
import { injectError } from "./inject-error.ts";

/** The part of the injected container and volumes a user may shape (like Istio's injection template). */
export interface InjectionTemplate {
  container: Record<string, unknown>;
  /** Extra volumes the template's container mounts. */
  volumes: Record<string, unknown>[];
}

/**
 * The default template: what every injected sidecar has, as the shipped manifests do. The
 * injector adds the image, ports, the generated config, mounts and (native form) restartPolicy.
 */
export const defaultTemplateYaml = `# sidecar inject's default template; pass your own with --template FILE (same shape).
container:
  name: sidecar
  args: [start]
  env:
    - name: POD_NAME
      valueFrom: { fieldRef: { fieldPath: metadata.name } }
    - name: POD_NAMESPACE
      valueFrom: { fieldRef: { fieldPath: metadata.namespace } }
    - name: NODE_NAME
      valueFrom: { fieldRef: { fieldPath: spec.nodeName } }
  # As the shipped manifests (deploy/base): idle RSS is ~80 MB, proxy + logs peak ~115 MB
  # under load in a Pod, the logs role's own benchmark peak ~240 MB.
  resources:
    requests: { cpu: 50m, memory: 96Mi }
    limits: { cpu: "1", memory: 256Mi }
  securityContext:
    runAsNonRoot: true
    runAsUser: 10001
    runAsGroup: 10001
    readOnlyRootFilesystem: true
    allowPrivilegeEscalation: false
    capabilities: { drop: [ALL] }
    seccompProfile: { type: RuntimeDefault }
  # /readyz: a native sidecar lets the app start only once its roles serve.
  startupProbe:
    httpGet: { path: /readyz, port: sidecar-admin }
    periodSeconds: 1
    failureThreshold: 30
  livenessProbe:
    httpGet: { path: /healthz, port: sidecar-admin }
    periodSeconds: 10
    failureThreshold: 3
  readinessProbe:
    httpGet: { path: /readyz, port: sidecar-admin }
    periodSeconds: 5
    failureThreshold: 2
volumes: []
`;

/** Parses a template (the default, or a user's file); `source` names it in messages. */
export function parseTemplate(text: string, source: string): InjectionTemplate {
  let value: unknown;
  try {
    value = parse(text, { maxAliasCount: 100 });
  } catch (error) {
    throw injectError(
      InjectErrorCodes.YAML,
      `${source}: ${(error as Error).message.split("\n")[0]}`,
      error,
    );
  }
  const template = value as Partial<InjectionTemplate> | null;
  if (!template || typeof template.container !== "object" || template.container === null)
    throw injectError(
      InjectErrorCodes.INVALID,
      `${source}: expected a mapping with a "container" mapping`,
    );
  if (template.volumes !== undefined && !Array.isArray(template.volumes))
    throw injectError(InjectErrorCodes.INVALID, `${source}: "volumes" must be a list`);
  const name = template.container.name;
  if (name !== undefined && typeof name !== "string")
    throw injectError(InjectErrorCodes.INVALID, `${source}: container.name must be a string`);
  return { container: { name: "sidecar", ...template.container }, volumes: template.volumes ?? [] };
}

export const defaultTemplate = parseTemplate(defaultTemplateYaml, "default template");
