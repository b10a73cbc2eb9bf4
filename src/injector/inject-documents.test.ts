import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { test } from "node:test";
import { parseAllDocuments } from "yaml";
import { fullConfigSchema } from "../cli/roles.ts";
import { parseConfigText } from "../runtime/config/load-config.ts";
import { type InjectRequest, injectDocuments } from "./inject-documents.ts";
import type { InjectFlags } from "./inject-options.ts";
import { defaultTemplate } from "./injection-template.ts";

const testdata = new URL("./testdata/", import.meta.url);
const inputs = [
  "pod.yaml",
  "deployment.yaml",
  "workloads.yaml",
  "jobs.yaml",
  "list.yaml",
  "stateful.yaml",
];
const forms = { native: {}, classic: { classic: true } } satisfies Record<string, InjectFlags>;

const run = (
  text: string,
  mode: InjectRequest["mode"],
  flags: InjectFlags = {},
  source = "input.yaml",
) => injectDocuments({ text, source, mode, flags, template: defaultTemplate, version: "0.1.0" });

/** The text as the YAML library writes it back untouched: what a round trip can promise. */
const normalized = (text: string) =>
  parseAllDocuments(text)
    .map((doc) => doc.toString({ lineWidth: 0 }))
    .join("");
const plain = (text: string) => parseAllDocuments(text).map((doc) => doc.toJS());

for (const input of inputs)
  for (const [form, flags] of Object.entries(forms)) {
    test(`${input}, ${form} form: matches its golden file (UPDATE_GOLDEN=1 rewrites it)`, async () => {
      const text = await readFile(new URL(input, testdata), "utf8");
      const out = run(text, "inject", flags, input).text;
      const golden = new URL(`golden/${input.replace(".yaml", `.${form}.yaml`)}`, testdata);
      if (process.env.UPDATE_GOLDEN === "1") await writeFile(golden, out);
      assert.equal(out, await readFile(golden, "utf8"));
    });

    test(`${input}, ${form} form: injecting again changes nothing; uninject gives the original back`, async () => {
      const text = await readFile(new URL(input, testdata), "utf8");
      const injected = run(text, "inject", flags, input).text;
      const again = run(injected, "inject", flags, input);
      assert.equal(again.text, injected);
      assert.deepEqual(again.changed, []);
      const back = run(injected, "uninject", {}, input).text;
      assert.deepEqual(plain(back), plain(text));
      assert.equal(normalized(back), normalized(text));
    });
  }

test("untouched documents are written back byte for byte, comments and all", async () => {
  const text = await readFile(new URL("workloads.yaml", testdata), "utf8");
  const out = run(text, "inject").text;
  const configMap = text.slice(text.lastIndexOf("---"));
  assert.ok(out.endsWith(configMap));
  const legacy = text.slice(text.indexOf("kind: ReplicaSet") - 22, text.lastIndexOf("---"));
  assert.ok(out.includes(legacy), "the opted-out ReplicaSet is untouched");
});

test("the generated sidecar config is valid for the sidecar it goes to", async () => {
  const text = await readFile(new URL("deployment.yaml", testdata), "utf8");
  const [doc] = plain(run(text, "inject").text) as {
    spec: { template: { spec: { initContainers: { env: { name: string; value?: string }[] }[] } } };
  }[];
  const env = doc!.spec.template.spec.initContainers[0]!.env;
  const yaml = env.find((e) => e.name === "SIDECAR_CONFIG_YAML")!.value!;
  const { config } = parseConfigText(yaml, "SIDECAR_CONFIG_YAML", {
    schema: await fullConfigSchema(),
    env: {},
  });
  assert.equal(config.admin.address, "0.0.0.0:9901");
  assert.ok(config.proxy && config.logs);
});

test("changed options re-inject in place, and uninject still restores the original", async () => {
  const text = await readFile(new URL("pod.yaml", testdata), "utf8");
  const first = run(text, "inject").text;
  const second = run(first, "inject", { proxyListenPort: "9000" });
  assert.deepEqual(second.changed, ["Pod/api"]);
  assert.match(second.text, /containerPort: 9000/);
  assert.doesNotMatch(second.text, /containerPort: 8081/);
  assert.equal((second.text.match(/name: sidecar$/gm) ?? []).length, 1);
  assert.equal(normalized(run(second.text, "uninject").text), normalized(text));
});

test("flags win over annotations, and a workload without either is refused by path", () => {
  const pod =
    "apiVersion: v1\nkind: Pod\nmetadata: { name: p }\nspec:\n  containers: [{ name: a, image: x }]\n";
  assert.throws(() => run(pod, "inject"), {
    code: "SIDECAR_ERR_INJECT_INVALID",
    message: /input\.yaml: Pod\/p: nothing to inject/,
  });
  const out = run(pod, "inject", { roles: "proxy", proxyPort: "8080" }).text;
  assert.match(out, /127\.0\.0\.1:8080/);
  assert.throws(
    () => run(pod, "inject", { roles: "proxy" }),
    /the proxy role needs the app's port/,
  );
  assert.throws(() => run(pod, "inject", { roles: "mesh" }), /--roles: unknown role "mesh"/);
  assert.throws(
    () => run(pod, "inject", { roles: "logs", logPaths: "relative/*.log" }),
    /must be absolute/,
  );
  assert.throws(
    () => run(pod, "inject", { roles: "logs", logPaths: "/var/*/x.log" }),
    /glob only in its file name/,
  );
  assert.throws(
    () => run(pod, "inject", { roles: "logs", logPaths: "/var/log/a.log", logSink: "kafka://x" }),
    { code: "SIDECAR_ERR_INJECT_INVALID", message: /Unknown sink "kafka:\/\/x"/ },
  );
});

test("conflicts are refused with a path-named message and no output", () => {
  const base = (spec: string) =>
    `apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations: { sidecar.dev/roles: proxy, sidecar.dev/proxy-port: "8080" }\nspec:\n${spec}`;
  const cases: [string, RegExp][] = [
    [
      "  containers: [{ name: sidecar, image: x }]\n",
      /Pod\/p spec\.containers\[0\]: a container named "sidecar" already exists/,
    ],
    [
      "  containers: [{ name: a, image: x }]\n  volumes: [{ name: sidecar-state, emptyDir: {} }]\n",
      /spec\.volumes: a volume named "sidecar-state" already exists/,
    ],
    [
      "  containers: [{ name: a, image: x, ports: [{ containerPort: 9901 }] }]\n",
      /spec\.containers\[0\]\.ports\[0\]: port 9901 is taken by the sidecar/,
    ],
    [
      "  hostNetwork: true\n  containers: [{ name: a, image: x }]\n",
      /spec\.hostNetwork: a Pod on the node's network/,
    ],
  ];
  for (const [spec, message] of cases)
    assert.throws(
      () => run(base(spec), "inject"),
      (error: Error & { code: string }) => {
        assert.ok(
          ["SIDECAR_ERR_INJECT_CONFLICT", "SIDECAR_ERR_INJECT_INVALID"].includes(error.code),
        );
        assert.match(error.message, message);
        return true;
      },
    );
});

test("a classic Job needs its command written out: the exit file is made by a wrapper", () => {
  const job =
    "apiVersion: batch/v1\nkind: Job\nmetadata: { name: j }\nspec:\n  template:\n    spec:\n      containers: [{ name: a, image: x }]\n";
  assert.throws(
    () => run(job, "inject", { roles: "logs", logPaths: "/var/log/a.log", classic: true }),
    {
      code: "SIDECAR_ERR_INJECT_CONFLICT",
      message: /spec\.template spec\.containers\[0\]\.command: a classic sidecar in a Job/,
    },
  );
  // The native form needs nothing: Kubernetes stops native sidecars when the Job's containers end.
  assert.doesNotThrow(() => run(job, "inject", { roles: "logs", logPaths: "/var/log/a.log" }));
});

test("a kind without a Pod template that asks for injection is refused, or passed through with --skip-unsupported", () => {
  const svc =
    'apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n  annotations: { sidecar.dev/inject: "true" }\nspec: {}\n';
  assert.throws(() => run(svc, "inject"), {
    code: "SIDECAR_ERR_INJECT_UNSUPPORTED",
    message: /kind Service has no Pod template/,
  });
  const warnings: string[] = [];
  const out = injectDocuments({
    text: svc,
    source: "svc.yaml",
    mode: "inject",
    flags: {},
    template: defaultTemplate,
    version: "0.1.0",
    skipUnsupported: true,
    warn: (m) => warnings.push(m),
  });
  assert.equal(out.text, svc);
  assert.equal(warnings.length, 1);
});

test("malformed and hostile YAML is refused with SIDECAR_ERR_INJECT_YAML, in bounded memory", () => {
  assert.throws(() => run("kind: Pod\nmetadata: [unclosed\n", "inject"), {
    code: "SIDECAR_ERR_INJECT_YAML",
    message: /input\.yaml \(document 1\)/,
  });
  const levels = ["a: &a [x, x, x, x, x, x, x, x, x]"];
  for (let i = 1; i < 9; i++)
    levels.push(
      `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9)
        .fill(`*${String.fromCharCode(96 + i)}`)
        .join(", ")}]`,
    );
  assert.throws(() => run(levels.join("\n"), "inject"), {
    code: "SIDECAR_ERR_INJECT_YAML",
    message: /alias/i,
  });
  const huge = `kind: ConfigMap\ndata:\n  x: "${"y".repeat(33 * 1024 * 1024)}"\n`;
  assert.throws(() => run(huge, "inject"), {
    code: "SIDECAR_ERR_INJECT_YAML",
    message: /more than the 32 MiB/,
  });
  assert.equal(run("", "inject").text, "");
});

test("the config and sync roles need their options, a volume to back up, and a free config directory", () => {
  const pod = (mounts = "") =>
    `apiVersion: v1\nkind: Pod\nmetadata: { name: p }\nspec:\n  containers:\n    - name: app\n      image: x\n${mounts}`;
  const data = "      volumeMounts: [{ name: data, mountPath: /data }]\n";
  assert.throws(
    () => run(pod(), "inject", { configOutputDir: "/etc/app" }),
    /the config role needs a source/,
  );
  assert.throws(
    () => run(pod(), "inject", { roles: "config", configSourceUrl: "http://c/x" }),
    /absolute directory the app reads/,
  );
  assert.throws(
    () =>
      run(pod("      volumeMounts: [{ name: cfg, mountPath: /etc/app }]\n"), "inject", {
        configOutputDir: "/etc/app",
        configSourceUrl: "http://c/x",
      }),
    { code: "SIDECAR_ERR_INJECT_CONFLICT", message: /\/etc\/app is already mounted/ },
  );
  assert.throws(
    () => run(pod(data), "inject", { syncDataDir: "/data/db" }),
    /an s3:\/\/BUCKET\/PREFIX target/,
  );
  assert.throws(
    () => run(pod(), "inject", { syncDataDir: "/data/db", syncTarget: "s3://backups/p" }),
    /no container mounts a volume at or above the sync data directory \/data\/db/,
  );
  const out = run(pod(data), "inject", {
    syncDataDir: "/data/db",
    syncTarget: "s3://backups/p",
  }).text;
  assert.match(out, /- name: data\n\s+mountPath: \/data\n/);
  assert.match(out, /dataDir: \/data\/db/);
});
