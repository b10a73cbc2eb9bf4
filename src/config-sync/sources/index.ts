import type { ConfigSource, SourceContext } from "./config-source.ts";
import { EtcdSource } from "./etcd/index.ts";
import { FileSource } from "./file/index.ts";
import { HttpSource } from "./http/index.ts";
import type { SourceConfig } from "./source-config.ts";

export type { ConfigSource, SourceContext, SourceSnapshot } from "./config-source.ts";
export { type SourceConfig, sourceConfigSchema } from "./source-config.ts";

/** Builds a source from its config (the `type` picks the kind). */
export function buildSource(config: SourceConfig, ctx: SourceContext): ConfigSource {
  const sourceCtx = { ...ctx, logger: ctx.logger.child({ source: config.name }) };
  if (config.type === "file") return new FileSource(config, sourceCtx);
  if (config.type === "http") return new HttpSource(config, sourceCtx);
  return new EtcdSource(config, sourceCtx);
}
