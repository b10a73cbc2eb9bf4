import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { requireTool } from "./require-tool.ts";

const run = promisify(execFile);
const root = new URL("../../", import.meta.url).pathname;

/** podman with the project's containers.conf (ulimits and cgroups these machines allow). */
export const podmanEnv: NodeJS.ProcessEnv = {
  ...process.env,
  CONTAINERS_CONF: process.env.CONTAINERS_CONF ?? `${root}deploy/image/containers.conf`,
};

/** Runs `podman ARGS…`; rejects with its stderr when it fails. */
export async function podman(
  args: readonly string[],
  options: { timeoutMs?: number } = {},
): Promise<{ stdout: string; stderr: string }> {
  try {
    return await run("podman", args, {
      env: podmanEnv,
      timeout: options.timeoutMs ?? 120_000,
      maxBuffer: 32 * 1024 * 1024,
    });
  } catch (error) {
    const {
      stderr = "",
      stdout = "",
      code,
    } = error as {
      stderr?: string;
      stdout?: string;
      code?: number;
    };
    throw new Error(
      `podman ${args.join(" ")} failed (exit ${code}): ${stderr || stdout || String(error)}`,
    );
  }
}

/** The names deploy/image/build-test-image.sh tags: the sidecar and the demo app. */
export interface TestImages {
  sidecar: string;
  demoApp: string;
}

/**
 * Builds (or reuses, when its inputs are unchanged) the local test images with
 * deploy/image/build-test-image.sh; fails with the package to install when a tool is missing.
 */
export async function buildTestImages(): Promise<TestImages> {
  for (const tool of ["podman", "runc", "catatonit", "strip", "tar"]) requireTool(tool);
  const { stdout } = await run("bash", [`${root}deploy/image/build-test-image.sh`], {
    env: podmanEnv,
    cwd: root,
    timeout: 300_000,
  }).catch((error: { stderr?: string }) => {
    throw new Error(`deploy/image/build-test-image.sh failed: ${error.stderr ?? String(error)}`);
  });
  const [sidecar, demoApp] = stdout.trim().split("\n");
  if (!sidecar || !demoApp)
    throw new Error(`build-test-image.sh printed no image names: ${stdout}`);
  return { sidecar, demoApp };
}
