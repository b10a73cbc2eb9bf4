import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { ErrorCodes, SidecarError } from "../runtime/errors.ts";
import { sidecarVersion } from "../runtime/version.ts";
import { InjectErrorCodes } from "./error-codes.ts";
import { injectError } from "./inject-error.ts";
import type { InjectFlags } from "./inject-options.ts";
import type { InjectionTemplate } from "./injection-template.ts";

interface InjectCommandFlags extends InjectFlags {
  file?: string[];
  template?: string;
  skipUnsupported?: boolean;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

async function loadTemplate(path: string | undefined): Promise<InjectionTemplate> {
  // Loaded on use: its YAML parser is not for every command's start.
  const { defaultTemplate, parseTemplate } = await import("./injection-template.ts");
  if (!path) return defaultTemplate;
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw injectError(
      InjectErrorCodes.READ,
      `Cannot read template "${path}": ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
      error,
    );
  }
  return parseTemplate(text, path);
}

async function runInject(
  mode: "inject" | "uninject",
  flags: InjectCommandFlags,
  out: (text: string) => void,
): Promise<number> {
  if (!flags.file?.length)
    throw new SidecarError(
      ErrorCodes.USAGE,
      `Nothing to ${mode}: pass -f FILE, -f DIR or -f - (stdin)`,
    );
  // Imported here: the injector's modules build the config schemas of the roles it configures,
  // which no other command should pay for at its start.
  const [{ injectDocuments }, { readInputs }] = await Promise.all([
    import("./inject-documents.ts"),
    import("./read-inputs.ts"),
  ]);
  const template = await loadTemplate(flags.template);
  const inputs = await readInputs(flags.file);
  // Every input is processed before anything is written: never a half-injected output.
  const results = inputs.map(({ source, text }) =>
    injectDocuments({
      text,
      source,
      mode,
      flags,
      template,
      version: sidecarVersion,
      skipUnsupported: flags.skipUnsupported ?? false,
      warn: (message) => process.stderr.write(`sidecar: warning: ${message}\n`),
    }),
  );
  results.forEach((result, i) => {
    if (
      i > 0 &&
      !/^---/m.test(result.text.split("\n").find((l) => l.trim() && !l.startsWith("#")) ?? "")
    )
      out("---\n");
    out(result.text.endsWith("\n") || result.text === "" ? result.text : `${result.text}\n`);
  });
  return 0;
}

/** `sidecar inject` and `sidecar uninject`: add the sidecar to manifests, or take it out again. */
export function registerInjectCommands(
  program: Command,
  setExitCode: (code: number) => void,
): void {
  const write = (text: string) => process.stdout.write(text);
  program
    .command("inject")
    .description("add the sidecar to the Pod templates of Kubernetes manifests (written to stdout)")
    .option(
      "-f, --file <path>",
      "a manifest file, a directory of them, or - for stdin (repeatable)",
      collect,
    )
    .option(
      "--roles <roles>",
      "roles of the sidecar, comma-separated: proxy, logs, config, sync (annotation sidecar.dev/roles)",
    )
    .option("--proxy-port <port>", "the app's port the proxy forwards to (sidecar.dev/proxy-port)")
    .option(
      "--proxy-listen-port <port>",
      "the port the proxy listens on, default 8081 (sidecar.dev/proxy-listen-port)",
    )
    .option(
      "--log-paths <globs>",
      "the app's log files, comma-separated, e.g. /var/log/app/*.log (sidecar.dev/log-paths)",
    )
    .option(
      "--log-parser <type>",
      "how log lines are parsed: none (default), json, logfmt, cri, docker (sidecar.dev/log-parser)",
    )
    .option(
      "--log-sink <sink>",
      "where logs go: stdout, file:PATH, http(s)://URL, syslog://HOST:PORT (sidecar.dev/log-sink)",
    )
    .option(
      "--config-source-configmap <name>",
      "config role: a ConfigMap whose files are published for the app (sidecar.dev/config-source-configmap)",
    )
    .option(
      "--config-source-url <url>",
      "config role: an HTTP URL to fetch the app's config from (sidecar.dev/config-source-url)",
    )
    .option(
      "--config-output-dir <dir>",
      "config role: where the app reads its config, e.g. /etc/app (sidecar.dev/config-output-dir)",
    )
    .option(
      "--config-notify-url <url>",
      "config role: the app's reload URL, called after each publish (sidecar.dev/config-notify-url)",
    )
    .option(
      "--sync-data-dir <dir>",
      "sync role: the app's data directory, on one of its volumes (sidecar.dev/sync-data-dir)",
    )
    .option("--sync-target <url>", "sync role: s3://BUCKET/PREFIX (sidecar.dev/sync-target)")
    .option(
      "--sync-credentials-secret <name>",
      "sync role: a Secret with the S3 credentials as env (sidecar.dev/sync-credentials-secret)",
    )
    .option(
      "--config-map <name>",
      "a ConfigMap with a full sidecar.yaml instead of the generated config (sidecar.dev/config-configmap)",
    )
    .option("--image <image>", "the sidecar image (sidecar.dev/image)")
    .option(
      "--classic",
      "a classic sidecar (under containers) for Kubernetes < 1.29; default: native (initContainers, restartPolicy Always)",
    )
    .option(
      "--template <file>",
      "the injection template (container shape, resources, probes); default: built in",
    )
    .option(
      "--skip-unsupported",
      "warn about, and pass through, documents of kinds without a Pod template that ask for injection",
    )
    .addHelpText(
      "after",
      "\nExamples:\n  sidecar inject -f deploy.yaml > injected.yaml\n  kubectl get deploy web -o yaml | sidecar inject -f - --roles proxy --proxy-port 8080 | kubectl apply -f -",
    )
    .action(async (flags: InjectCommandFlags) => {
      setExitCode(await runInject("inject", flags, write));
    });
  program
    .command("uninject")
    .description("take out what sidecar inject added (written to stdout)")
    .option(
      "-f, --file <path>",
      "a manifest file, a directory of them, or - for stdin (repeatable)",
      collect,
    )
    .addHelpText("after", "\nExample:\n  sidecar uninject -f injected.yaml > original.yaml")
    .action(async (flags: InjectCommandFlags) => {
      setExitCode(await runInject("uninject", flags, write));
    });
}
