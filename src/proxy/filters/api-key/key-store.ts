import { parse as parseYaml } from "yaml";
import { crypto, fs } from "../../../runtime/builtins.ts";
import { describeError, SidecarError } from "../../../runtime/errors.ts";
import { watchPath } from "../../../runtime/files/path-watcher.ts";
import type { Logger } from "../../../runtime/telemetry/logger.ts";
import { ProxyErrorCodes } from "../../error-codes.ts";

/** One accepted key: its id (logged, passed upstream) and the SHA-256 of the key. */
interface StoredKey {
  id: string;
  hash: Buffer;
}

export interface KeySource {
  /**
   * A YAML or JSON map of key id → key, where a value `sha256:<64 hex>` is the key's SHA-256
   * rather than the key (so the file holds no usable secret). Reloaded when it changes.
   */
  file?: string | undefined;
  /** Key id → the environment variable holding the key (or its `sha256:` hash). */
  env?: Record<string, string> | undefined;
}

const sha256 = (value: string) => crypto.createHash("sha256").update(value).digest();

function parseEntry(id: string, value: unknown, where: string): StoredKey {
  if (typeof value !== "string" || value.length === 0)
    throw new SidecarError(
      ProxyErrorCodes.API_KEYS,
      `API key "${id}" in ${where} must be a non-empty string`,
    );
  const hashed = /^sha256:([0-9a-fA-F]{64})$/.exec(value);
  if (value.startsWith("sha256:") && !hashed)
    throw new SidecarError(
      ProxyErrorCodes.API_KEYS,
      `API key "${id}" in ${where}: expected "sha256:" and 64 hex digits`,
    );
  return { id, hash: hashed ? Buffer.from(hashed[1]!, "hex") : sha256(value) };
}

/** Reads the keys of `source`; throws SidecarError SIDECAR_ERR_PROXY_API_KEYS naming what is wrong (never a key). */
export function readKeys(source: KeySource, env: NodeJS.ProcessEnv = process.env): StoredKey[] {
  const keys: StoredKey[] = [];
  if (source.file !== undefined) {
    let map: unknown;
    try {
      map = parseYaml(fs.readFileSync(source.file, "utf8"));
    } catch (error) {
      throw new SidecarError(
        ProxyErrorCodes.API_KEYS,
        `Cannot read API keys file "${source.file}": ${describeError(error).split("\n")[0]}`,
      );
    }
    if (map === null || typeof map !== "object" || Array.isArray(map))
      throw new SidecarError(
        ProxyErrorCodes.API_KEYS,
        `API keys file "${source.file}" must be a map of key id to key`,
      );
    for (const [id, value] of Object.entries(map))
      keys.push(parseEntry(id, value, `"${source.file}"`));
  }
  for (const [id, name] of Object.entries(source.env ?? {})) {
    const value = env[name];
    if (value === undefined)
      throw new SidecarError(
        ProxyErrorCodes.API_KEYS,
        `API key "${id}": environment variable ${name} is not set`,
      );
    keys.push(parseEntry(id, value, `environment variable ${name}`));
  }
  return keys;
}

/**
 * The accepted API keys. A presented key is hashed and compared with every stored hash in
 * constant time, so neither the keys nor their number leak through timing; only key ids are
 * ever logged. The keys file reloads on change; a bad file keeps the last good keys.
 *
 * @example
 * const store = new ApiKeyStore({ file: "/etc/keys/api-keys.yaml" }, { logger });
 * store.lookup(req.headers["x-api-key"]); // "ci-bot" or undefined
 */
export class ApiKeyStore {
  readonly #source: KeySource;
  readonly #logger: Logger;
  #keys: StoredKey[];
  #watcher: { close(): void } | undefined;

  constructor(
    source: KeySource,
    { logger, watch = true, env }: { logger: Logger; watch?: boolean; env?: NodeJS.ProcessEnv },
  ) {
    this.#source = source;
    this.#logger = logger;
    this.#keys = readKeys(source, env);
    if (watch && source.file !== undefined)
      this.#watcher = watchPath(
        source.file,
        () => {
          this.reload(env);
        },
        { logger },
      );
  }

  /** The id of the key, or undefined when no stored key matches. */
  lookup(presented: string): string | undefined {
    const hash = sha256(presented);
    let found: string | undefined;
    // Every key is compared, match or not: the time taken does not depend on which one matched.
    for (const key of this.#keys)
      if (crypto.timingSafeEqual(hash, key.hash) && !found) found = key.id;
    return found;
  }

  get size(): number {
    return this.#keys.length;
  }

  /** Reads the sources again; keeps the current keys when they are bad. */
  reload(env?: NodeJS.ProcessEnv): boolean {
    try {
      this.#keys = readKeys(this.#source, env);
      this.#logger.info({ keys: this.#keys.length }, "API keys reloaded");
      return true;
    } catch (error) {
      this.#logger.error(
        { error, code: ProxyErrorCodes.API_KEYS },
        "API keys reload failed; the previous keys stay in use",
      );
      return false;
    }
  }

  close(): void {
    this.#watcher?.close();
  }
}
