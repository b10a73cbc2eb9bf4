import assert from "node:assert/strict";
import { test } from "node:test";
import { renderStatusPage, type StatusPageModel } from "./status-page.ts";

const model: StatusPageModel = {
  version: "0.1.0",
  uptimeSeconds: 3725,
  config: { path: "/etc/sidecar/sidecar.yaml", hash: "abc123" },
  ready: false,
  draining: false,
  roles: [
    { name: "admin", state: "running", ready: true },
    {
      name: "app",
      state: "running",
      ready: false,
      reason: 'health probe: <script>alert("x")</script>',
    },
  ],
  panels: [{ role: "proxy", figures: [{ label: "ingress: 5xx", value: "3", warn: true }] }],
  endpoints: [{ method: "GET", path: "/readyz", description: "readiness" }],
  refreshSeconds: 5,
};

test("the page shows version, uptime, config hash, each role and each panel", () => {
  const html = renderStatusPage(model);
  assert.match(html, /<title>sidecar 0\.1\.0<\/title>/);
  assert.match(html, /up 1h 2m/);
  assert.match(html, /hash <code>abc123<\/code>/);
  assert.match(html, /id="overall">not ready</);
  assert.match(html, /data-role="app" data-ready="false"/);
  assert.match(
    html,
    /<section data-panel="proxy">.*ingress: 5xx.*class="warn"|class="warn".*ingress: 5xx/s,
  );
  assert.match(html, /<meta http-equiv="refresh" content="5">/);
});

test("the page carries no script and no external asset, and escapes every value", () => {
  const html = renderStatusPage(model);
  assert.doesNotMatch(html, /<script/i);
  assert.match(html, /&lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt;/);
  assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//);
});
