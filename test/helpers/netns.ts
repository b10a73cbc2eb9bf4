import { execFileSync } from "node:child_process";
import { requireTool } from "./require-tool.ts";

export interface TestHost {
  /** The namespace's name, for `ip netns exec`. */
  name: string;
  /** This machine's address on the link to the test host. */
  hostAddress: string;
  /** The test host's own address. */
  peerAddress: string;
  /** Runs a command inside the test host's namespace. */
  exec(command: readonly string[], options?: { input?: string; timeoutMs?: number }): string;
  remove(): void;
}

/**
 * A test host of the test's own: a network namespace joined to this machine by a veth pair on
 * a /30 link, so traffic from it reaches us from a non-loopback address. Needs root and `ip`.
 */
export function createTestHost(): TestHost {
  const ip = requireTool("ip");
  const id = (process.pid % 200) + 20;
  const name = `sidecar-test-${process.pid}`;
  const hostIf = `sct${process.pid % 100000}a`;
  const peerIf = `sct${process.pid % 100000}b`;
  const hostAddress = `10.250.${id}.1`;
  const peerAddress = `10.250.${id}.2`;
  const run = (...args: string[]) => execFileSync(ip, args, { stdio: "pipe" });
  const remove = () => {
    try {
      run("netns", "del", name);
    } catch {}
    try {
      run("link", "del", hostIf);
    } catch {}
  };
  remove();
  try {
    run("netns", "add", name);
    run("link", "add", hostIf, "type", "veth", "peer", "name", peerIf);
    run("link", "set", peerIf, "netns", name);
    run("addr", "add", `${hostAddress}/30`, "dev", hostIf);
    run("link", "set", hostIf, "up");
    run("netns", "exec", name, "ip", "addr", "add", `${peerAddress}/30`, "dev", peerIf);
    run("netns", "exec", name, "ip", "link", "set", peerIf, "up");
    run("netns", "exec", name, "ip", "link", "set", "lo", "up");
  } catch (error) {
    remove();
    throw new Error(
      `Cannot create a network namespace for the test host (this test needs root): ${String(error)}`,
    );
  }
  return {
    name,
    hostAddress,
    peerAddress,
    exec: (command, options = {}) =>
      execFileSync(ip, ["netns", "exec", name, ...command], {
        encoding: "utf8",
        input: options.input,
        timeout: options.timeoutMs ?? 15_000,
      }),
    remove,
  };
}
