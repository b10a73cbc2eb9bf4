import { defineCollector, FamilyBuilder, readProc } from "../collector.ts";

/**
 * node_network_{receive,transmit}_<stat>_total{device} from /proc/net/dev, with the column
 * names of its header (bytes, packets, errs, drop, fifo, frame/colls, compressed, multicast/carrier).
 */
export const netdevCollector = defineCollector({
  name: "netdev",
  defaultEnabled: true,
  create: ({ paths, options }) => {
    const include = options.netdev.deviceInclude
      ? new RegExp(options.netdev.deviceInclude)
      : undefined;
    const exclude = options.netdev.deviceExclude
      ? new RegExp(options.netdev.deviceExclude)
      : undefined;
    return {
      async collect() {
        const lines = (await readProc(paths, "net", "dev")).split("\n");
        const header = lines[1]?.split("|");
        if (!header || header.length < 3) throw new Error("unexpected /proc/net/dev header");
        const receive = header[1]!.trim().split(/\s+/);
        const transmit = header[2]!.trim().split(/\s+/);
        const keys = [
          ...receive.map((k) => `receive_${k}`),
          ...transmit.map((k) => `transmit_${k}`),
        ];
        const builders = new Map(
          keys.map((key) => [
            key,
            new FamilyBuilder(
              `node_network_${key}_total`,
              "counter",
              `Network device statistic ${key}.`,
            ),
          ]),
        );
        for (const line of lines.slice(2)) {
          const colon = line.indexOf(":");
          if (colon < 0) continue;
          const device = line.slice(0, colon).trim();
          if (include ? !include.test(device) : exclude?.test(device)) continue;
          const values = line
            .slice(colon + 1)
            .trim()
            .split(/\s+/);
          keys.forEach((key, i) => {
            builders.get(key)!.add({ device }, Number(values[i] ?? 0));
          });
        }
        return [...builders.values()].map((b) => b.family);
      },
    };
  },
});
