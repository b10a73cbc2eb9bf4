/**
 * Security benchmark (part of `npm run bench:proxy`): TLS keep-alive throughput and the rate of
 * new TLS handshakes (`Connection: close` on every request), `sidecar proxy` vs nginx (1 worker)
 * with the same EC P-256 certificate, both in front of the same app; then the cost of an
 * API-key and a JWT (ES256, local JWKS) check per request, as the sidecar's CPU per request
 * with the filter minus without it. Loopback only; bounded duration.
 *
 *   node bench/proxy/security.ts
 *   BENCH_DURATION=3 BENCH_ROUNDS=1 node bench/proxy/security.ts
 */

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { testCa, testLeaf } from "../../src/proxy/tls/test-pki.testing.ts";
import { freePort } from "../../src/runtime/testing.ts";
import { sidecarCommand } from "../sidecar-command.ts";
import { children, nginxWorker, type Result, start, wrk } from "./harness.ts";

const duration = Number(process.env.BENCH_DURATION ?? 5);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
const { args: sidecarArgs, env: sidecarEnv } = await sidecarCommand("proxy");
const dir = await mkdtemp(join(tmpdir(), "sidecar-bench-tls-"));

/** Best of `rounds` wrk runs; `header` is sent on every request. */
async function best(url: string, pid: number, header?: string): Promise<Result> {
  let top: Result | undefined;
  for (let i = 0; i < rounds; i++) {
    const result = await wrk(url, pid, connections, duration, header ? [header] : []);
    if (!top || result.rps > top.rps) top = result;
  }
  return top!;
}

try {
  const ca = await testCa();
  const leaf = await testLeaf(ca, "localhost", { dns: ["localhost"], ips: ["127.0.0.1"] });
  await writeFile(join(dir, "tls.crt"), leaf.cert);
  await writeFile(join(dir, "tls.key"), leaf.key);
  const { privateKey, publicKey } = await generateKeyPair("ES256");
  await writeFile(
    join(dir, "jwks.json"),
    JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256" }] }),
  );
  const token = await new SignJWT({ sub: "bench", scope: "read" })
    .setProtectedHeader({ alg: "ES256", kid: "k1" })
    .setIssuer("https://idp.bench")
    .setAudience("bench")
    .setExpirationTime("1h")
    .sign(privateKey);
  await writeFile(join(dir, "keys.yaml"), "bench: bench-key-0123456789abcdef\n");

  const appPort = await freePort();
  const tlsPort = await freePort();
  const plainPort = await freePort();
  const adminPort = await freePort();
  const nginxPort = await freePort();
  await start(process.execPath, ["bench/proxy/app.js", String(appPort)], /ready/, appPort);
  const noLimit = "failedAttempts: { burst: 1000000, perMinute: 1000000 }";
  await writeFile(
    join(dir, "sidecar.yaml"),
    `admin:\n  address: 127.0.0.1:${adminPort}\nlog:\n  level: warn\nproxy:
  listeners:
    - name: tls
      address: 127.0.0.1:${tlsPort}
      tls: { certFile: ${dir}/tls.crt, keyFile: ${dir}/tls.key }
      routes: [{ cluster: app }]
    - name: plain
      address: 127.0.0.1:${plainPort}
      routes:
        - match: { prefix: /key }
          cluster: app
          filters: [{ type: api-key, keys: { file: ${dir}/keys.yaml }, ${noLimit} }]
        - match: { prefix: /jwt }
          cluster: app
          filters:
            - { type: jwt, jwksFile: ${dir}/jwks.json, issuer: https://idp.bench, audience: bench, algorithms: [ES256], ${noLimit} }
        - cluster: app
  clusters:
    app: { endpoints: ["127.0.0.1:${appPort}"] }
  accessLog: { enabled: false }\n`,
  );
  const sidecar = await start(
    process.execPath,
    [...sidecarArgs, "proxy", "-c", join(dir, "sidecar.yaml")],
    undefined,
    plainPort,
    sidecarEnv,
  );
  await writeFile(
    join(dir, "nginx.conf"),
    `worker_processes 1;\ndaemon off;\npid ${dir}/nginx.pid;\nerror_log ${dir}/nginx-error.log warn;\nevents { worker_connections 4096; }\nhttp {\n  access_log off;\n  client_body_temp_path ${dir}; proxy_temp_path ${dir};\n  fastcgi_temp_path ${dir}; uwsgi_temp_path ${dir}; scgi_temp_path ${dir};\n  upstream app { server 127.0.0.1:${appPort}; keepalive 64; }\n  server {\n    listen 127.0.0.1:${nginxPort} ssl;\n    ssl_certificate ${dir}/tls.crt; ssl_certificate_key ${dir}/tls.key;\n    ssl_protocols TLSv1.2 TLSv1.3;\n    location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; }\n  }\n}\n`,
  );
  const nginx = await start(
    "nginx",
    ["-p", dir, "-c", join(dir, "nginx.conf"), "-e", join(dir, "nginx-error.log")],
    undefined,
    appPort, // start() checks readiness over plain HTTP: the app's port; wrk then warms nginx up
  );
  let nginxPid = 0;
  for (let i = 0; i < 100 && !nginxPid; i++) {
    nginxPid = await nginxWorker(nginx.pid!);
    if (!nginxPid) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const sidecarPid = sidecar.pid!;

  const warm = async (url: string, pid: number) => wrk(url, pid, connections, 2);
  await warm(`https://127.0.0.1:${tlsPort}/`, sidecarPid);
  await warm(`https://127.0.0.1:${nginxPort}/`, nginxPid);
  console.log(`wrk -t1 -c${connections} -d${duration}s, best of ${rounds}, loopback, EC P-256\n`);

  console.log("TLS                          req/s      p50        p99     CPU µs/req");
  const rows: [string, Result][] = [];
  for (const [name, port, pid] of [
    ["sidecar", tlsPort, sidecarPid],
    ["nginx", nginxPort, nginxPid],
  ] as const) {
    rows.push([`${name} keep-alive`, await best(`https://127.0.0.1:${port}/`, pid)]);
    rows.push([
      `${name} new handshake`,
      await best(`https://127.0.0.1:${port}/`, pid, "Connection: close"),
    ]);
  }
  for (const [name, r] of rows)
    console.log(
      `  ${name.padEnd(24)} ${r.rps.toFixed(0).padStart(8)}  ${r.p50.padStart(9)}  ${r.p99.padStart(9)}  ${r.cpuUs.toFixed(1).padStart(8)}`,
    );
  const get = (name: string) => rows.find(([n]) => n === name)![1];
  console.log(
    `  keep-alive req/s: sidecar/nginx = ${(get("sidecar keep-alive").rps / get("nginx keep-alive").rps).toFixed(2)}` +
      `   handshakes/s: sidecar/nginx = ${(get("sidecar new handshake").rps / get("nginx new handshake").rps).toFixed(2)}\n`,
  );

  console.log(
    "auth check (plain HTTP)      req/s      p50        p99     CPU µs/req   cost µs/req",
  );
  const base = await best(`http://127.0.0.1:${plainPort}/none`, sidecarPid);
  const key = await best(
    `http://127.0.0.1:${plainPort}/key`,
    sidecarPid,
    "x-api-key: bench-key-0123456789abcdef",
  );
  const jwt = await best(
    `http://127.0.0.1:${plainPort}/jwt`,
    sidecarPid,
    `authorization: Bearer ${token}`,
  );
  for (const [name, r] of [
    ["no filter", base],
    ["api-key", key],
    ["jwt (ES256)", jwt],
  ] as const)
    console.log(
      `  ${name.padEnd(24)} ${r.rps.toFixed(0).padStart(8)}  ${r.p50.padStart(9)}  ${r.p99.padStart(9)}  ${r.cpuUs.toFixed(1).padStart(8)}   ${(r.cpuUs - base.cpuUs).toFixed(1).padStart(8)}`,
    );
} finally {
  for (const child of children) child.kill("SIGTERM");
  await rm(dir, { recursive: true, force: true });
}
