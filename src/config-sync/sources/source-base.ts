import { z } from "zod";
import { seconds } from "../../runtime/config/schema-helpers.ts";

/** What every source has: a name, whether the app can start without it, how long to wait for it. */
export const sourceBaseShape = {
  /** Names the source in logs, metrics, /config and `outputs[].source`. */
  name: z.string().regex(/^[a-zA-Z0-9_-]+$/, { error: "expected letters, digits, _ and -" }),
  /** A required source must be read before the first version (and `--once` fails without it). */
  required: z.boolean().default(true),
  /** How long the first read may take before a required source fails the start. */
  timeoutSeconds: seconds(30, { min: 0.1 }),
  /** Its values are secrets: outputs fed by it are written 0600 by default. */
  secret: z.boolean().default(false),
  /**
   * How entry values become template values: `auto` parses `.json` and `.yaml`/`.yml` entries,
   * keeps the others as strings; `json`/`yaml` parse every entry; `text` parses none.
   */
  parse: z.enum(["auto", "json", "yaml", "text"]).default("auto"),
};
