import type { AdminRoute, StatusPanel } from "../runtime/admin/admin-router.ts";
import type { SyncStatus } from "./sync-role.ts";

/** Bytes as a short human figure: 0 B, 12.3 KiB, 4.0 GiB. */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** `GET /sync/status`: the role's status as JSON (never a credential). */
export function syncStatusRoute(status: () => SyncStatus): AdminRoute {
  return {
    method: "GET",
    path: "/sync/status",
    description: "sync: newest version at the target, last success, lag, last error",
    handle(_req, res) {
      const body = `${JSON.stringify(status(), null, 2)}\n`;
      res.writeHead(200, {
        "content-type": "application/json; charset=utf-8",
        "cache-control": "no-store",
      });
      res.end(body);
    },
  };
}

/** The sync panel of the status page. */
export function syncStatusPanel(status: () => SyncStatus, now: () => number): StatusPanel {
  return {
    role: "sync",
    figures() {
      const s = status();
      const ago = s.lastSuccessAt
        ? `${Math.round((now() - Date.parse(s.lastSuccessAt)) / 1000)} s ago`
        : "never";
      return [
        { label: "target", value: s.target },
        { label: "version", value: s.version === undefined ? "none" : String(s.version) },
        { label: "files", value: `${s.files} (${formatBytes(s.bytes)})` },
        { label: "last sync", value: ago, warn: !s.lastSuccessAt },
        { label: "lag", value: `${Math.round(s.lagSeconds)} s`, warn: s.lagSeconds > 300 },
        ...(s.lastError
          ? [
              {
                label: "last error",
                value: `${s.lastError.kind}: ${s.lastError.message}`,
                warn: true,
              },
            ]
          : []),
      ];
    },
  };
}
