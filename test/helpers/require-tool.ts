import { execFileSync } from "node:child_process";

/** The Debian package that provides each system tool the e2e tests use. */
export const toolPackages: Record<string, string> = {
  promtool: "prometheus",
  "syslog-ng": "syslog-ng-core",
  nginx: "nginx-light",
  wrk: "wrk",
  etcd: "etcd-server",
  podman: "podman",
  ip: "iproute2",
  chromium: "chromium",
  openssl: "openssl",
};

/**
 * The absolute path of `tool`, or an error naming the package and the install command.
 * An e2e test calls this first: a missing tool fails the test, it never skips it.
 */
export function requireTool(tool: string): string {
  try {
    return execFileSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).trim();
  } catch {
    const pkg = toolPackages[tool] ?? tool;
    throw new Error(
      `This test needs "${tool}", which is not installed: run "sudo apt-get install -y ${pkg}" or "bash scripts/install-system-deps.sh"`,
    );
  }
}
