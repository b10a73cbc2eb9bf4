import { hostname, machine, release, type, version } from "node:os";
import { defineCollector, readProc } from "../collector.ts";

async function kernelField(
  paths: Parameters<typeof readProc>[0],
  name: string,
  fallback: () => string,
) {
  try {
    return (await readProc(paths, "sys", "kernel", name)).trim();
  } catch {
    return fallback();
  }
}

/**
 * node_uname_info{sysname,release,version,machine,nodename,domainname} = 1: what uname(2)
 * reports, read from /proc/sys/kernel (the host's with --path.procfs), else from node:os.
 */
export const unameCollector = defineCollector({
  name: "uname",
  defaultEnabled: true,
  create: ({ paths }) => ({
    async collect() {
      const [sysname, rel, ver, nodename, domainname] = await Promise.all([
        kernelField(paths, "ostype", type),
        kernelField(paths, "osrelease", release),
        kernelField(paths, "version", version),
        kernelField(paths, "hostname", hostname),
        kernelField(paths, "domainname", () => "(none)"),
      ]);
      return [
        {
          name: "node_uname_info",
          type: "gauge",
          help: "Labeled system information as provided by the uname system call.",
          samples: [
            {
              name: "node_uname_info",
              labels: {
                domainname,
                machine: machine(),
                nodename,
                release: rel,
                sysname,
                version: ver,
              },
              value: 1,
            },
          ],
        },
      ];
    },
  }),
});
