import { join } from "node:path";
import { fs } from "../../runtime/builtins.ts";
import { longRunningEnv } from "../../runtime/command-env.ts";
import { ErrorCodes, SidecarError } from "../../runtime/errors.ts";
import { writeFileAtomic } from "../../runtime/files/atomic-file.ts";
import { defineRole } from "../../runtime/role-definition.ts";
import { sidecarVersion } from "../../runtime/version.ts";
import type { WebhookConfig } from "./webhook-config.ts";

interface WebhookFlags {
  tlsCert?: string;
  tlsKey?: string;
  listen?: string;
  failurePolicy?: string;
  injectByDefault?: boolean;
  classic?: boolean;
  image?: string;
}

/**
 * `sidecar webhook`: the mutating admission webhook that injects the sidecar into Pods at
 * creation, with the same injection as `sidecar inject`. A standalone role: its own command only.
 */
export const webhookRoleDefinition = defineRole({
  name: "webhook",
  description:
    "The mutating admission webhook that injects the sidecar into Pods (see docs/inject.md).",
  loadSchema: async () => (await import("./webhook-config.ts")).webhookConfigSchema,
  phase: "standalone",
  env: longRunningEnv,
  command: {
    description: "serve the mutating admission webhook that injects the sidecar at Pod creation",
    usage: "--tls-cert FILE --tls-key FILE [options] | -c FILE",
    options: [
      { flags: "--tls-cert <file>", description: "serving certificate (PEM), reloaded on change" },
      { flags: "--tls-key <file>", description: "its private key (PEM)" },
      { flags: "--listen <address>", description: "HTTPS address (default 0.0.0.0:8443)" },
      {
        flags: "--failure-policy <policy>",
        description: "closed (refuse a Pod that cannot be injected, default) or open",
      },
      {
        flags: "--inject-by-default",
        description: "inject Pods without a sidecar.dev/inject annotation or label",
      },
      {
        flags: "--classic",
        description: "classic sidecars (under containers) for Kubernetes < 1.29",
      },
      { flags: "--image <image>", description: "the sidecar image to inject" },
    ],
    examples: [
      "sidecar webhook --tls-cert /certs/tls.crt --tls-key /certs/tls.key --admin-address 0.0.0.0:9901",
      "sidecar webhook gen-cert --service sidecar-webhook --namespace sidecar-system --out ./certs",
    ],
    overlay(flags) {
      const f = flags as WebhookFlags;
      if (f.tlsCert === undefined && f.tlsKey === undefined) {
        if (f.listen || f.failurePolicy || f.injectByDefault || f.classic || f.image)
          throw new SidecarError(
            ErrorCodes.USAGE,
            "--tls-cert and --tls-key are needed (or -c with a webhook: section)",
          );
        return undefined;
      }
      if (!f.tlsCert || !f.tlsKey)
        throw new SidecarError(ErrorCodes.USAGE, "--tls-cert and --tls-key go together");
      const webhook: Record<string, unknown> = { tls: { certFile: f.tlsCert, keyFile: f.tlsKey } };
      if (f.listen) webhook.listen = f.listen;
      if (f.failurePolicy) webhook.failurePolicy = f.failurePolicy;
      if (f.injectByDefault) webhook.injectByDefault = true;
      if (f.classic) webhook.classic = true;
      if (f.image) webhook.image = f.image;
      return { webhook };
    },
    nothingToDo: "Nothing to serve: give --tls-cert and --tls-key, or -c with a webhook: section",
    subcommands: [
      {
        name: "gen-cert",
        description:
          "write a CA and a serving certificate for the webhook's Service, and print the caBundle",
        options: [
          {
            flags: "--service <name>",
            description: "the webhook's Service (default sidecar-webhook)",
          },
          { flags: "--namespace <ns>", description: "its namespace (default sidecar-system)" },
          {
            flags: "--out <dir>",
            description: "where to write ca.crt, tls.crt, tls.key (default .)",
          },
          { flags: "--days <n>", description: "validity in days (default 365)" },
        ],
        examples: [
          "sidecar webhook gen-cert --service sidecar-webhook --namespace sidecar-system --out ./certs",
        ],
        async action(flags) {
          const service = String(flags.service ?? "sidecar-webhook");
          const namespace = String(flags.namespace ?? "sidecar-system");
          const days = flags.days === undefined ? 365 : Number(flags.days);
          if (!Number.isInteger(days) || days < 1)
            throw new SidecarError(
              ErrorCodes.USAGE,
              `Invalid --days "${String(flags.days)}": expected a whole number of days ≥ 1`,
            );
          const out = String(flags.out ?? ".");
          const { generateWebhookCertificates } = await import("./gen-cert.ts");
          const certs = await generateWebhookCertificates({ service, namespace, days });
          fs.mkdirSync(out, { recursive: true });
          await writeFileAtomic(join(out, "ca.crt"), certs.caCert);
          await writeFileAtomic(join(out, "tls.crt"), certs.serverCert);
          await writeFileAtomic(join(out, "tls.key"), certs.serverKey, { mode: 0o600 });
          process.stderr.write(
            `wrote ${join(out, "ca.crt")}, ${join(out, "tls.crt")}, ${join(out, "tls.key")} for ${service}.${namespace}.svc\ncaBundle (for the MutatingWebhookConfiguration):\n`,
          );
          process.stdout.write(`${certs.caBundle}\n`);
          return 0;
        },
      },
    ],
  },
  async create(section: WebhookConfig, ctx) {
    const { createWebhookRole } = await import("./webhook-server.ts");
    const { defaultTemplate, parseTemplate } = await import("../injection-template.ts");
    const template = section.templateFile
      ? parseTemplate(fs.readFileSync(section.templateFile, "utf8"), section.templateFile)
      : defaultTemplate;
    return createWebhookRole(
      section,
      {
        failurePolicy: section.failurePolicy,
        injectByDefault: section.injectByDefault,
        image: section.image,
        classic: section.classic,
        template,
        version: sidecarVersion,
      },
      ctx,
    );
  },
});
