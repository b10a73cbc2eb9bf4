/** An AdmissionReview request as the API server sends it for `kubectl run` (k8s docs' shape). */
export function podReview(pod: Record<string, unknown>, overrides: Record<string, unknown> = {}) {
  return {
    uid: "705ab4f5-6393-11e8-b7cc-42010a800002",
    kind: { group: "", version: "v1", kind: "Pod" },
    resource: { group: "", version: "v1", resource: "pods" },
    requestKind: { group: "", version: "v1", kind: "Pod" },
    requestResource: { group: "", version: "v1", resource: "pods" },
    namespace: "shop",
    operation: "CREATE",
    userInfo: { username: "admin", uid: "014fbff9a07c", groups: ["system:authenticated"] },
    object: pod,
    oldObject: null,
    dryRun: false,
    options: { apiVersion: "meta.k8s.io/v1", kind: "CreateOptions" },
    ...overrides,
  };
}

export const annotatedPod = () => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: {
    name: "web-7d4b9c",
    namespace: "shop",
    labels: { app: "web" },
    annotations: {
      "sidecar.dev/inject": "true",
      "sidecar.dev/roles": "proxy,logs",
      "sidecar.dev/proxy-port": "8080",
      "sidecar.dev/log-paths": "/var/log/app/*.log",
    },
  },
  spec: {
    containers: [{ name: "web", image: "example/web:1.0", ports: [{ containerPort: 8080 }] }],
  },
});
