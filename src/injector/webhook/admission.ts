import { describeError } from "../../runtime/errors.ts";
import { Annotations } from "../annotations.ts";
import { resolveInjectOptions } from "../inject-options.ts";
import type { InjectionTemplate } from "../injection-template.ts";
import { type PodTemplate, planInjection } from "../plan-injection.ts";
import { toJsonPatch } from "../pod-operations.ts";

/** The part of an AdmissionReview v1 request the webhook reads. */
export interface AdmissionRequest {
  uid: string;
  kind?: { group?: string; version?: string; kind?: string };
  operation?: string;
  namespace?: string;
  object?: unknown;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  patchType?: "JSONPatch";
  patch?: string;
  status?: { code: number; message: string };
  warnings?: string[];
}

/** What happened to one review, for the metrics' `result` label. */
export type AdmissionResult =
  | "injected"
  | "skipped"
  | "already_injected"
  | "refused"
  | "failed_open";

export interface AdmissionPolicy {
  failurePolicy: "closed" | "open";
  injectByDefault: boolean;
  image: string | undefined;
  classic: boolean;
  template: InjectionTemplate;
  version: string;
}

interface Pod extends PodTemplate {
  metadata?: PodTemplate["metadata"] & {
    name?: string;
    generateName?: string;
    labels?: Record<string, string>;
    ownerReferences?: { kind?: string }[];
  };
}

/** Whether the Pod asks for the sidecar: the annotation, else the label, else the default. */
function wantsInjection(pod: Pod, injectByDefault: boolean): boolean {
  const value =
    pod.metadata?.annotations?.[Annotations.inject] ?? pod.metadata?.labels?.[Annotations.inject];
  return value === undefined ? injectByDefault : value === "true";
}

/**
 * Answers one AdmissionReview request: for a Pod CREATE that asks for the sidecar, a JSONPatch
 * of exactly the operations `sidecar inject` applies (the same planInjection). A Pod already
 * injected (reinvocation, or made from an injected template) is left alone.
 */
export function admit(
  request: AdmissionRequest,
  policy: AdmissionPolicy,
): { response: AdmissionResponse; result: AdmissionResult } {
  const allow = (result: AdmissionResult, extra: Partial<AdmissionResponse> = {}) => ({
    response: { uid: request.uid, allowed: true, ...extra },
    result,
  });
  if (request.kind?.kind !== "Pod" || request.operation !== "CREATE") return allow("skipped");
  const pod = request.object as Pod | undefined;
  if (!pod || typeof pod !== "object" || !pod.spec) return allow("skipped");
  if (pod.metadata?.annotations?.[Annotations.status]) return allow("already_injected");
  if (!wantsInjection(pod, policy.injectByDefault)) return allow("skipped");
  const name = pod.metadata?.name ?? `${pod.metadata?.generateName ?? ""}*`;
  const where = `Pod ${request.namespace ?? "default"}/${name}`;
  try {
    // The webhook's image is a default: a Pod's own sidecar.dev/image annotation wins.
    const annotations = {
      ...(policy.image ? { [Annotations.image]: policy.image } : {}),
      ...pod.metadata?.annotations,
    };
    const options = resolveInjectOptions({ classic: policy.classic }, annotations, where);
    const owner = pod.metadata?.ownerReferences?.find((o) => o.kind === "Job");
    const operations = planInjection(pod, options, policy.template, {
      kind: owner ? "Job" : "Pod",
      where,
      version: policy.version,
    });
    if (operations.length === 0) return allow("already_injected");
    const patch = Buffer.from(JSON.stringify(toJsonPatch(operations))).toString("base64");
    return allow("injected", { patchType: "JSONPatch", patch });
  } catch (error) {
    const message = `sidecar injection failed: ${describeError(error)}`;
    if (policy.failurePolicy === "open") return allow("failed_open", { warnings: [message] });
    return {
      response: { uid: request.uid, allowed: false, status: { code: 400, message } },
      result: "refused",
    };
  }
}
