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
    schema: z.strictObject({ greeting: z.string(), times: z.number().int().default(2) }),
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
    schema: composeConfigSchema([toyRoleDefinition]),
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
    schema: z.strictObject({ greeting: z.string() }),
    phase: "standalone",
    create: () => {
      throw new Error("not built");
    },
  });
  await assert.rejects(
    runSidecar({
      definitions: [toy],
      schema: composeConfigSchema([toy]),
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
