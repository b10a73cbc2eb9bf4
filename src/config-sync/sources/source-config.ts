import { z } from "zod";
import { etcdSourceSchema } from "./etcd/etcd-config.ts";
import { fileSourceSchema } from "./file/file-config.ts";
import { httpSourceSchema } from "./http/http-config.ts";

export const sourceConfigSchema = z.discriminatedUnion("type", [
  fileSourceSchema,
  httpSourceSchema,
  etcdSourceSchema,
]);
export type SourceConfig = z.infer<typeof sourceConfigSchema>;
