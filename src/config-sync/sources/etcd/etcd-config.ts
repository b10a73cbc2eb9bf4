import { z } from "zod";
import { seconds } from "../../../runtime/config/schema-helpers.ts";
import { sourceBaseShape } from "../source-base.ts";

/** A key or a prefix in etcd v3: read, then watched from that revision. */
export const etcdSourceSchema = z
  .strictObject({
    type: z.literal("etcd"),
    ...sourceBaseShape,
    /** e.g. `["https://etcd-0:2379", "https://etcd-1:2379"]`. */
    endpoints: z.array(z.url({ protocol: /^https?$/ })).min(1),
    /** Every key under this prefix; entries are named by the rest of the key. */
    prefix: z.string().min(1).optional(),
    /** One key; its entry is named by the part after the last `/`. */
    key: z.string().min(1).optional(),
    auth: z.strictObject({ username: z.string().min(1), password: z.string() }).optional(),
    tls: z
      .strictObject({
        caFile: z.string().min(1).optional(),
        certFile: z.string().min(1).optional(),
        keyFile: z.string().min(1).optional(),
      })
      .optional(),
    /** Per call (the initial read, a re-list after a compaction). */
    requestTimeoutSeconds: seconds(5, { min: 0.1 }),
  })
  .refine((s) => (s.prefix === undefined) !== (s.key === undefined), {
    error: "set exactly one of prefix and key",
  });
export type EtcdSourceConfig = z.infer<typeof etcdSourceSchema>;
