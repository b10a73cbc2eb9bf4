import { z } from "zod";
import { etcdSourceSchema } from "./etcd/etcd-config.ts";
import { fileSourceSchema } from "./file/file-config.ts";

export const sourceConfigSchema = z.discriminatedUnion("type", [
  fileSourceSchema,
  etcdSourceSchema,
]);
export type SourceConfig = z.infer<typeof sourceConfigSchema>;
