/**
 * The program load-config-in-child.ts runs to read, interpolate, parse and validate the config
 * with every role's schema: it reads its request (JSON) on stdin, writes the validated config,
 * or the error, V8-serialized on file descriptor 3, and exits. zod, the schemas and the YAML
 * parser load here and go with this process: the running sidecar never holds them.
 */
import { text } from "node:stream/consumers";
import { serialize } from "node:v8";
import { fs } from "../runtime/builtins.ts";
import { loadConfigFile } from "../runtime/config/load-config.ts";
import { isSidecarError } from "../runtime/errors.ts";
import type { ConfigChildReply, ConfigChildRequest } from "./load-config-in-child.ts";
import { configSchema } from "./roles.ts";

const { path, env, overlay } = JSON.parse(await text(process.stdin)) as ConfigChildRequest;
let reply: ConfigChildReply;
try {
  const loaded = await loadConfigFile(path ?? undefined, {
    schema: configSchema,
    env,
    ...(overlay ? { overlay } : {}),
  });
  reply = { config: loaded.config, path: loaded.path };
} catch (error) {
  reply = {
    error: isSidecarError(error)
      ? {
          code: error.code,
          message: error.message,
          details: [...error.details],
          exitCode: error.exitCode,
        }
      : { message: error instanceof Error ? (error.stack ?? error.message) : String(error) },
  };
}
fs.createWriteStream("", { fd: 3 }).end(serialize(reply));
