import { execFileSync } from "node:child_process";

/** The Debian package that provides each system tool the e2e tests use. */
export const toolPackages: Record<string, string> = {
  promtool: "prometheus",
  "prometheus-node-exporter": "prometheus-node-exporter",
  "syslog-ng": "syslog-ng-core",
  nginx: "nginx-light",
  wrk: "wrk",
  etcd: "etcd-server",
  podman: "podman",
  ip: "iproute2",
  strip: "binutils",
  runc: "runc",
  catatonit: "catatonit",
  chromium: "chromium",
  openssl: "openssl",
};

/** How to get the tools that do not come from a Debian package. */
export const toolHints: Record<string, string> = {
  kubectl:
    "install kubectl >= 1.27 (it has kustomize 5 built in) from the Kubernetes release; Debian's kubernetes-client (1.20) is too old",
};

/**
 * The absolute path of `tool`, or an error naming the package and the install command.
 * An e2e test calls this first: a missing tool fails the test, it never skips it.
 */
export function requireTool(tool: string): string {
  try {
    return execFileSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).trim();
  } catch {
    const hint = toolHints[tool];
    if (hint) throw new Error(`This test needs "${tool}", which is not installed: ${hint}`);
    const pkg = toolPackages[tool] ?? tool;
    throw new Error(
      `This test needs "${tool}", which is not installed: run "sudo apt-get install -y ${pkg}" or "bash scripts/install-system-deps.sh"`,
    );
  }
}
