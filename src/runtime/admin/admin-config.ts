import { z } from "zod";
import { addressSchema } from "../config/schema-helpers.ts";

export const adminConfigSchema = z
  .strictObject({
    /** Where the admin server listens. Use "0.0.0.0:9901" in a Pod so kubelet and Prometheus reach it. */
    address: addressSchema
      .default("127.0.0.1:9901")
      .describe(
        'Where the admin server listens; "0.0.0.0:9901" in a Pod so kubelet and Prometheus reach it.',
      ),
  })
  .default({ address: "127.0.0.1:9901" });

export type AdminConfig = z.infer<typeof adminConfigSchema>;
