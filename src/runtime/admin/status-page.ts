import type { PanelFigure } from "./admin-router.ts";

export interface StatusPageModel {
  version: string;
  uptimeSeconds: number;
  config: { path: string | null; hash: string };
  ready: boolean;
  draining: boolean;
  roles: { name: string; state: string; ready: boolean; reason?: string | undefined }[];
  panels: { role: string; figures: PanelFigure[] }[];
  endpoints: { method: string; path: string; description: string }[];
  /** Seconds between the page's own refreshes. */
  refreshSeconds: number;
}

const escapes: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Text made safe for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => escapes[c]!);
}

function duration(seconds: number): string {
  const s = Math.floor(seconds);
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  return d > 0 ? `${d}d ${h}h ${m}m` : h > 0 ? `${h}h ${m}m` : m > 0 ? `${m}m ${s % 60}s` : `${s}s`;
}

const style = `
body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
header{background:#1d2330;color:#fff;padding:12px 20px;display:flex;gap:24px;align-items:baseline;flex-wrap:wrap}
header h1{font-size:18px;margin:0}
main{padding:16px 20px;display:grid;gap:16px;grid-template-columns:repeat(auto-fill,minmax(300px,1fr))}
section{background:#fff;border:1px solid #dde1e8;border-radius:6px;padding:12px 14px}
h2{font-size:15px;margin:0 0 8px}
table{border-collapse:collapse;width:100%}
td,th{text-align:left;padding:3px 6px;border-top:1px solid #eef0f3;vertical-align:top}
th{font-weight:600;color:#555}
.ok{color:#137333;font-weight:600}.bad{color:#b3261e;font-weight:600}
.warn{background:#fff4e5}
code{font-size:12px}
footer{padding:0 20px 16px;color:#666;font-size:12px}`;

/**
 * The admin port's status page: plain HTML, no scripts and no external assets (it works
 * without JavaScript and offline), refreshing itself. Everything shown comes from the model
 * and is escaped; the model holds no secret (figures are numbers, reasons are role states).
 */
export function renderStatusPage(model: StatusPageModel): string {
  const verdict = model.draining
    ? `<span class="bad" id="overall">draining</span>`
    : model.ready
      ? `<span class="ok" id="overall">ready</span>`
      : `<span class="bad" id="overall">not ready</span>`;
  const roleRows = model.roles
    .map(
      (role) =>
        `<tr data-role="${escapeHtml(role.name)}" data-ready="${role.ready}"><td>${escapeHtml(role.name)}</td><td>${escapeHtml(role.state)}</td><td class="${role.ready ? "ok" : "bad"}">${role.ready ? "ready" : "not ready"}</td><td>${escapeHtml(role.reason ?? "")}</td></tr>`,
    )
    .join("");
  const panels = model.panels
    .map(
      (panel) =>
        `<section data-panel="${escapeHtml(panel.role)}"><h2>${escapeHtml(panel.role)}</h2><table>${panel.figures
          .map(
            (figure) =>
              `<tr${figure.warn ? ' class="warn"' : ""}><th>${escapeHtml(figure.label)}</th><td>${escapeHtml(figure.value)}</td></tr>`,
          )
          .join("")}</table></section>`,
    )
    .join("");
  const endpoints = model.endpoints
    .map(
      (e) =>
        `<tr><td><code>${escapeHtml(e.method)} ${escapeHtml(e.path)}</code></td><td>${escapeHtml(e.description)}</td></tr>`,
    )
    .join("");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="${model.refreshSeconds}">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>sidecar ${escapeHtml(model.version)}</title><style>${style}</style></head>
<body><header><h1>sidecar ${escapeHtml(model.version)}</h1><span>${verdict}</span><span>up ${duration(model.uptimeSeconds)}</span><span>config <code>${escapeHtml(model.config.path ?? "built-in defaults")}</code> hash <code>${escapeHtml(model.config.hash)}</code></span></header>
<main><section id="roles"><h2>Roles</h2><table><tr><th>role</th><th>state</th><th>ready</th><th>reason</th></tr>${roleRows}</table></section>${panels}
<section id="endpoints"><h2>Endpoints</h2><table>${endpoints}</table></section></main>
<footer>Refreshes every ${model.refreshSeconds} s. Figures are read from the same metrics as <a href="/metrics">/metrics</a>.</footer>
</body></html>
`;
}
