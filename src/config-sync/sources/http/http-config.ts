import { z } from "zod";
import { seconds } from "../../../runtime/config/schema-helpers.ts";
import { httpClientShape } from "../../../runtime/http/http-client.ts";
import { sourceBaseShape } from "../source-base.ts";

/** A document (or Consul KV listing) fetched over HTTP: polled with ETags, or long-polled. */
export const httpSourceSchema = z.strictObject({
  type: z.literal("http"),
  ...sourceBaseShape,
  /** e.g. `https://config.internal/apps/shop.yaml` or `http://127.0.0.1:8500/v1/kv/shop/?recurse`. */
  url: z.url({ protocol: /^https?$/ }),
  ...httpClientShape,
  /** Between two polls (with `If-None-Match` when the server sent an ETag); unused with longPoll. */
  intervalSeconds: seconds(30, { min: 0.05 }),
  /**
   * Blocking queries (Consul, Nomad, Vault style): the server holds the request until the data
   * changes past `index` or `wait` passes; the index comes back in `indexHeader`.
   */
  longPoll: z
    .strictObject({
      indexHeader: z.string().min(1).default("X-Consul-Index"),
      indexParam: z.string().min(1).default("index"),
      waitParam: z.string().min(1).default("wait"),
      /** Sent as `wait=60s`; the request may take this long plus timeoutSeconds. */
      waitSeconds: seconds(60, { min: 1 }),
      /** At least this long between two requests, when the server answers at once again and again. */
      minIntervalSeconds: seconds(0.1),
    })
    .optional(),
  /**
   * `document`: the body is one entry (named `file`); `consul-kv`: the body is Consul's
   * `?recurse` listing, one entry per key (base64 values decoded).
   */
  body: z.enum(["document", "consul-kv"]).default("document"),
  /** The entry's name for a document (its file name in raw outputs); default the URL's last path part. */
  file: z.string().min(1).optional(),
  /** consul-kv: this leading part of each key is dropped (e.g. `shop/`). */
  stripPrefix: z.string().default(""),
});
export type HttpSourceConfig = z.infer<typeof httpSourceSchema>;
