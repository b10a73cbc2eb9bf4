import assert from "node:assert/strict";
import { test } from "node:test";
import { z } from "zod";
import { composeConfigSchema } from "../src/runtime/config/schema.ts";
import type { Role } from "../src/runtime/role.ts";
import { defineRole, type RoleContext } from "../src/runtime/role-definition.ts";
import { runSidecar } from "../src/runtime/run-sidecar.ts";

// What a new role takes: one definition in its own folder (this one is inline) and one line in
// src/cli/roles.ts. The runtime composes its config section, builds it with a context and
// runs it in its phase; nothing in src/runtime/ changes.
test("a role plugs in through its definition alone: section, context, phase, exit code", async () => {
  const seen: { section?: { greeting: string; times: number }; ctx?: RoleContext } = {};
  const toyRoleDefinition = defineRole({
    name: "toy",
    description: "A role that greets, then asks the sidecar to stop.",
    // A real role imports its schema module here: `async () => (await import("./toy-config.ts")).toyConfigSchema`.
    loadSchema: async () =>
      z.strictObject({ greeting: z.string(), times: z.number().int().default(2) }),
    phase: "before-app",
    create(section, ctx): Role {
      seen.section = section;
      seen.ctx = ctx;
      ctx.admin.route({
        method: "GET",
        path: "/toy",
        description: "the toy's greeting",
        handle: (_req, res) => {
          res.end(section.greeting);
        },
      });
      return {
        name: "toy",
        async start() {
          ctx.logger.info({ times: section.times }, section.greeting);
          ctx.requestStop("toy done", 3);
        },
        ready: () => true,
        async stop() {},
      };
    },
  });
  const code = await runSidecar({
    definitions: [toyRoleDefinition],
    schema: (keys) => composeConfigSchema([toyRoleDefinition], keys),
    configPath: undefined,
    overlay: { admin: { address: "127.0.0.1:0" }, toy: { greeting: "hello" } },
    env: { SIDECAR_LOG_LEVEL: "silent" },
  });
  assert.equal(code, 3);
  assert.deepEqual(seen.section, { greeting: "hello", times: 2 });
  assert.equal(seen.ctx?.shutdown.aborted, true, "the shutdown signal fired");
  assert.equal(seen.ctx?.app, undefined, "no app outside sidecar run");
});

test("a role section that does not match its schema is refused by path, like any other", async () => {
  const toy = defineRole({
    name: "toy",
    description: "toy",
    loadSchema: async () => z.strictObject({ greeting: z.string() }),
    phase: "standalone",
    create: () => {
      throw new Error("not built");
    },
  });
  await assert.rejects(
    runSidecar({
      definitions: [toy],
      schema: (keys) => composeConfigSchema([toy], keys),
      configPath: undefined,
      overlay: { toy: { greting: "hi" } },
      env: {},
    }),
    (error: Error & { code: string; details: string[] }) => {
      assert.equal(error.code, "SIDECAR_ERR_CONFIG_INVALID");
      assert.match(error.details.join("\n"), /toy\.greting: unknown key, did you mean "greeting"/);
      return true;
    },
  );
});

test("a command loads only the schemas of the role sections its config has, and still checks them all", async () => {
  const loads: string[] = [];
  const role = (name: string) =>
    defineRole({
      name,
      description: name,
      loadSchema: async () => {
        loads.push(name);
        return z.strictObject({ greeting: z.string() });
      },
      phase: "standalone",
      create: () => {
        throw new Error("not built");
      },
    });
  const definitions = [role("toy"), role("other"), role("unused")];
  const schema = (keys: readonly string[]) => composeConfigSchema(definitions, keys);
  const load = (overlay: Record<string, unknown>) =>
    runSidecar({ definitions, schema, configPath: undefined, overlay, env: {} });

  // The toy's section is fine, the other's has a typo, an unknown top-level key is one too.
  await assert.rejects(
    load({ toy: { greeting: "hi" }, other: { greting: "hi" }, unusd: {} }),
    (error: Error & { code: string; details: string[] }) => {
      assert.equal(error.code, "SIDECAR_ERR_CONFIG_INVALID");
      const details = error.details.join("\n");
      assert.match(details, /other\.greting: unknown key, did you mean "greeting"/);
      assert.match(details, /unusd: unknown key, did you mean "unused"/);
      assert.match(details, /other\.greeting: required/);
      assert.equal(error.details.length, 3, details);
      return true;
    },
  );
  assert.deepEqual(loads.sort(), ["other", "toy"], "the absent role's schema was not loaded");
});
