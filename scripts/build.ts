/**
 * Builds dist/sidecar.js: the CLI and its dependencies bundled, what the package and the image
 * run. A bundle instead of ~300 modules starts faster and costs 6 MB less RSS (fewer module
 * records and loader work; `npm run bench:proxy:memory`). Split: what one command or one
 * configured role needs behind a dynamic `import()` (a role's `create`, the S3 SDK, the
 * webhook's certificate generator…) is a chunk under dist/chunks/, read only when used, so
 * `sidecar proxy` neither holds the source of the other roles nor runs their modules. ASCII
 * only: one non-ASCII character (an em dash in a comment) makes V8 hold the whole file's source
 * as two bytes per character. Not minified, so stack traces stay readable. Type checking is
 * `npm run typecheck`; esbuild only strips the types.
 *
 *   npm run build
 */
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { basename, dirname } from "node:path";
import { build, type Plugin } from "esbuild";

const root = new URL("../", import.meta.url).pathname;

/** Bundles src/cli/entry.ts into `outfile`, its lazily loaded chunks into `chunks/` beside it. */
export async function buildBundle(outfile = `${root}dist/sidecar.js`): Promise<void> {
  const outdir = dirname(outfile);
  await rm(`${outdir}/chunks`, { recursive: true, force: true });
  const result = await build({
    entryPoints: {
      [basename(outfile, ".js")]: `${root}src/cli/entry.ts`,
      // A thread's module must be a file of its own: the sync's copy threads (copy-pool.ts
      // finds it beside the entry).
      "sync-copy-worker": `${root}src/data-sync/targets/copy-worker.ts`,
      // The config process, which validates the config and exits (load-config-in-child.ts).
      "config-child": `${root}src/cli/config-child.ts`,
    },
    outdir,
    bundle: true,
    splitting: true,
    chunkNames: "chunks/[name]-[hash]",
    write: false,
    platform: "node",
    format: "esm",
    target: "node22",
    logLevel: "warning",
    // etcd3 loads its .proto files from its own folder at run time, so it stays a package next
    // to the bundle (a dependency in package.json); the config role imports it only for an
    // etcd source, so other commands never load it (nor gRPC's memory).
    external: ["etcd3"],
    plugins: [
      zodEnglishOnly,
      promClientWithoutPushgateway,
      pinoWithoutAssert,
      pinoWorkerThreadsOnUse,
    ],
    // The CommonJS dependencies (pino, prom-client, yaml, commander) call require() for Node's
    // built-ins; an ESM file has no require of its own.
    banner: {
      js: 'import { createRequire as __sidecarCreateRequire } from "node:module";\nconst require = __sidecarCreateRequire(import.meta.url);',
    },
  });
  for (const file of result.outputFiles) {
    await mkdir(dirname(file.path), { recursive: true });
    await writeFile(file.path, asciiOnly(file.text));
  }
}

/**
 * zod with its English messages only. `import { z } from "zod"` reaches every export of zod,
 * `z.locales` too: the messages in 40-odd languages, most of zod's source, loaded at every
 * start. The sidecar reports its config errors in its own words and never selects a locale
 * (zod's default, English, stays), so `z.locales` holds only `en` in the bundle.
 */
const zodEnglishOnly: Plugin = {
  name: "zod-english-only",
  setup(build) {
    build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]node_modules[\\/]zod[\\/]/.test(args.importer)
        ? { path: args.resolveDir, namespace: "zod-locales" }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: "zod-locales" }, (args) => ({
      contents: 'export { default as en } from "../locales/en.js";',
      resolveDir: args.path,
      loader: "js",
    }));
  },
};

/**
 * prom-client without its Pushgateway client, which the sidecar never uses (Prometheus scrapes
 * it): prom-client's index requires it, and it requires node:https at once, which loads TLS
 * (4 MB RSS) into every sidecar, TLS configured or not.
 */
const promClientWithoutPushgateway: Plugin = {
  name: "prom-client-without-pushgateway",
  setup(build) {
    build.onResolve({ filter: /^\.\/lib\/pushgateway$/ }, (args) =>
      /[\\/]node_modules[\\/]prom-client[\\/]/.test(args.importer)
        ? { path: "pushgateway", namespace: "prom-client-stub" }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: "prom-client-stub" }, () => ({
      contents:
        "module.exports = class Pushgateway { constructor() { throw new Error(\"prom-client's Pushgateway is not in the sidecar's bundle\"); } };",
      loader: "js",
    }));
  },
};

/**
 * pino's sonic-boom and thread-stream without node:assert: each requires it at load for a
 * check or two, and node:assert loads its diff and error-formatting modules (0.5 MB RSS on a
 * bare server) into every start. The same checks, throwing an Error with the same message.
 */
const pinoWithoutAssert: Plugin = {
  name: "pino-without-assert",
  setup(build) {
    build.onResolve({ filter: /^assert$/ }, (args) =>
      /[\\/]node_modules[\\/](sonic-boom|thread-stream)[\\/]/.test(args.importer)
        ? { path: "assert", namespace: "pino-assert" }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: "pino-assert" }, () => ({
      contents:
        "module.exports = function assert(value, message) { if (!value) throw new Error(message); };",
      loader: "js",
    }));
  },
};

/**
 * pino without node:worker_threads at start: its tools require it at load for `isMainThread`
 * (read only for an asynchronous destination; the sidecar writes synchronously) and its
 * transport module requires thread-stream, which requires it too, for `pino.transport()`, which
 * the sidecar never calls. Both now require it when used: 0.45 MB less RSS at start on a bare
 * node:http server. The build fails if pino's source no longer has the lines rewritten.
 */
const pinoWorkerThreadsOnUse: Plugin = {
  name: "pino-worker-threads-on-use",
  setup(build) {
    const rewrites: Record<string, [string, string][]> = {
      "tools.js": [
        ["const { isMainThread } = require('worker_threads')", ""],
        ["!opts.sync && isMainThread", "!opts.sync && require('worker_threads').isMainThread"],
      ],
      "transport.js": [
        [
          "const ThreadStream = require('thread-stream')",
          "function ThreadStream (options) { return new (require('thread-stream'))(options) }",
        ],
      ],
    };
    build.onLoad(
      { filter: /[\\/]node_modules[\\/]pino[\\/]lib[\\/](tools|transport)\.js$/ },
      async (args) => {
        let text = await readFile(args.path, "utf8");
        for (const [from, to] of rewrites[basename(args.path)]!) {
          if (!text.includes(from))
            throw new Error(`pino's ${basename(args.path)} has no "${from}"`);
          text = text.replace(from, to);
        }
        return { contents: text, loader: "js" };
      },
    );
  },
};

/**
 * esbuild escapes non-ASCII characters in strings, regular expressions and identifiers, but
 * keeps comments as written; `\uXXXX` means the same character in all of those places, and
 * nothing in a comment.
 */
function asciiOnly(text: string): string {
  return text.replace(
    /[\u0080-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

if (import.meta.main) {
  await rm(`${root}dist`, { recursive: true, force: true });
  await buildBundle();
}
