import type { AdminRouter, PanelFigure } from "../runtime/admin/admin-router.ts";
import type { Clock } from "../runtime/clock.ts";
import type { ConfigRole } from "./config-role.ts";

function iso(ms: number | undefined): string | null {
  return ms === undefined ? null : new Date(ms).toISOString();
}

/** What `GET /config` answers: sources, versions, hashes and last errors; never a value. */
export function configStatus(role: ConfigRole) {
  const published = role.published;
  return {
    outputDir: role.outputDir,
    version: published
      ? {
          hash: published.hash,
          publishedAt: iso(published.at),
          dir: published.dir,
          files: published.files,
          sources: published.sources,
        }
      : null,
    lastFailure: role.failure ? { ...role.failure, at: iso(role.failure.at) } : null,
    sources: role.sources.map((source) => ({
      name: source.name,
      type: source.type,
      target: source.target,
      up: source.status.up,
      version: source.status.version ?? null,
      entries: source.status.entries,
      lastChangeAt: iso(source.status.lastChangeAt),
      lastError: source.status.lastError ?? null,
      lastErrorAt: iso(source.status.lastErrorAt),
    })),
    notify: role.notifications.map((n) => ({ ...n, at: iso(n.at) })),
  };
}

/** Adds `GET /config` and the role's status-page panel. */
export function registerConfigAdmin(admin: AdminRouter, role: ConfigRole, clock: Clock): void {
  admin.route({
    method: "GET",
    path: "/config",
    description: "config role: sources, published version, hashes and last errors (no values)",
    handle: (_req, res) => {
      const body = JSON.stringify(configStatus(role), null, 2);
      res.writeHead(200, {
        "content-type": "application/json; charset=utf-8",
        "cache-control": "no-store",
      });
      res.end(`${body}\n`);
    },
  });
  admin.panel({
    role: "config",
    figures: (): PanelFigure[] => {
      const published = role.published;
      const down = role.sources.filter((s) => !s.status.up);
      const figures: PanelFigure[] = [
        { label: "version", value: published?.hash ?? "none yet", warn: !published },
        {
          label: "published",
          value: published ? `${Math.round((clock.now() - published.at) / 1000)} s ago` : "never",
        },
        {
          label: "sources up",
          value: `${role.sources.length - down.length}/${role.sources.length}`,
          warn: down.length > 0,
        },
      ];
      if (role.failure)
        figures.push({
          label: `kept back (${role.failure.stage})`,
          value: role.failure.reason.slice(0, 200),
          warn: true,
        });
      return figures;
    },
  });
}
