import { z } from "zod";
import { defineComponent } from "../../../runtime/component.ts";
import type { Transform } from "../../log-event.ts";
import { regexSourceSchema } from "../../parsers/regex/index.ts";

export const fieldsFromPathSchema = z.strictObject({
  type: z.literal("fields-from-path"),
  /**
   * A regular expression matched against the event's source (the file path); each named group
   * that matches becomes a field, e.g. Kubernetes' pod log paths:
   * `^/var/log/pods/(?<namespace>[^_/]+)_(?<pod>[^_/]+)_(?<pod_uid>[^/]+)/(?<container>[^/]+)/`.
   */
  pattern: regexSourceSchema.refine((source) => /\(\?<[A-Za-z_]\w*>/.test(source), {
    error: "expected at least one named group (?<name>…)",
  }),
  /** Replace a field the event already has (default true). */
  overwrite: z.boolean().default(true),
});
export type FieldsFromPathConfig = z.infer<typeof fieldsFromPathSchema>;

/** Paths whose fields are remembered; a node has a few thousand log files at most. */
const cacheLimit = 10_000;

/**
 * Adds fields taken from the path of the file an event was read from. The match is made once
 * per path (remembered), not once per event; a path that does not match adds nothing.
 *
 * @example
 * fieldsFromPath({ type: "fields-from-path", pattern: "/(?<app>[^/]+)\\.log$", overwrite: true });
 * // an event from /var/log/shop.log gets fields.app = "shop"
 */
export function fieldsFromPath(config: FieldsFromPathConfig): Transform {
  const regex = new RegExp(config.pattern);
  const cache = new Map<string, [string, string][]>();
  const fieldsOf = (path: string): [string, string][] => {
    let fields = cache.get(path);
    if (fields === undefined) {
      const groups = regex.exec(path)?.groups ?? {};
      fields = Object.entries(groups).filter(
        (entry): entry is [string, string] => entry[1] !== undefined,
      );
      if (cache.size >= cacheLimit) cache.clear();
      cache.set(path, fields);
    }
    return fields;
  };
  return function fieldsFromPathTransform(event) {
    for (const [key, value] of fieldsOf(event.source))
      if (config.overwrite || !(key in event.fields)) event.fields[key] = value;
    return event;
  };
}

export const fieldsFromPathTransform = defineComponent({
  type: "fields-from-path",
  schema: fieldsFromPathSchema,
  build: (config) => fieldsFromPath(config),
});
