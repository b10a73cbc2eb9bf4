import {
  createLocalJWKSet,
  errors,
  type FlattenedJWSInput,
  type JSONWebKeySet,
  type JWSHeaderParameters,
} from "jose";
import { fs } from "../../../runtime/builtins.ts";
import { describeError } from "../../../runtime/errors.ts";
import { watchPath } from "../../../runtime/files/path-watcher.ts";
import { type HttpClient, redactUrl } from "../../../runtime/http/http-client.ts";
import type { Logger } from "../../../runtime/telemetry/logger.ts";
import { ProxyErrorCodes } from "../../error-codes.ts";

type KeyResolver = ReturnType<typeof createLocalJWKSet>;
export type VerificationKey = Awaited<ReturnType<KeyResolver>>;

export interface JwksKeysOptions {
  /** A JWKS URL (the IdP's `jwks_uri`) … */
  url?: string | undefined;
  /** … or a local JWKS file, reloaded when it changes. */
  file?: string | undefined;
  /** Keys fetched from the URL are refreshed after this (in the background, served meanwhile). */
  cacheSeconds: number;
  /** An unknown `kid` refetches the URL, but no more often than this. */
  minRefreshSeconds: number;
  http?: HttpClient | undefined;
  logger: Logger;
  /** Monotonic milliseconds. */
  now: () => number;
}

/** A key set could not be had at all (never fetched, unreadable): the token cannot be checked. */
export class JwksUnavailableError extends Error {
  override readonly name = "JwksUnavailableError";
}

function parseJwks(text: string, where: string): JSONWebKeySet {
  const value = JSON.parse(text) as unknown;
  if (
    value === null ||
    typeof value !== "object" ||
    !Array.isArray((value as { keys?: unknown }).keys)
  )
    throw new Error(`${where} is not a JWKS (an object with a "keys" array)`);
  return value as JSONWebKeySet;
}

/**
 * The keys JWTs are verified with, from a JWKS URL or file. Like go-oidc's RemoteKeySet: keys
 * are cached; a token whose `kid` is unknown triggers one refetch (concurrent ones share it),
 * at most once per `minRefreshSeconds`; when the IdP is down the last good keys keep serving.
 *
 * @example
 * const keys = new JwksKeys({ url, cacheSeconds: 600, minRefreshSeconds: 30, http, logger, now });
 * await jwtVerify(token, (header, token) => keys.resolve(header, token), options);
 */
export class JwksKeys {
  readonly #options: JwksKeysOptions;
  #resolver: KeyResolver | undefined;
  #fetchedAt = Number.NEGATIVE_INFINITY;
  #attemptedAt = Number.NEGATIVE_INFINITY;
  #inflight: Promise<void> | undefined;
  #watcher: { close(): void } | undefined;
  #lastError = "";

  constructor(options: JwksKeysOptions) {
    if ((options.url === undefined) === (options.file === undefined))
      throw new TypeError("JwksKeys needs exactly one of url and file");
    if (options.url !== undefined && options.http === undefined)
      throw new TypeError("JwksKeys with a url needs an HttpClient");
    this.#options = options;
    if (options.file !== undefined) {
      this.#loadFile();
      this.#watcher = watchPath(options.file, () => this.#loadFile(), { logger: options.logger });
    }
  }

  /** Fetches the URL once now (at start), so the first request need not wait; never throws. */
  async prefetch(): Promise<void> {
    if (this.#options.url !== undefined) await this.#refresh();
  }

  /** The key for a token's header (jose's key-resolver signature). */
  async resolve(header: JWSHeaderParameters, token: FlattenedJWSInput): Promise<VerificationKey> {
    const { url, cacheSeconds, minRefreshSeconds, now } = this.#options;
    if (url !== undefined) {
      const age = now() - this.#fetchedAt;
      if (this.#resolver === undefined) await this.#refresh(minRefreshSeconds);
      else if (age > cacheSeconds * 1000) void this.#refresh(minRefreshSeconds);
    }
    if (this.#resolver === undefined)
      throw new JwksUnavailableError(`no JWKS could be loaded: ${this.#lastError}`);
    try {
      return await this.#resolver(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey) || url === undefined) throw error;
      // A key the IdP may have just rotated in: refetch, within the rate limit.
      if (!(await this.#refresh(minRefreshSeconds))) throw error;
      return this.#resolver(header, token);
    }
  }

  /** Refetches unless the last attempt is under `minInterval` seconds old; true when new keys came. */
  #refresh(minIntervalSeconds = 0): Promise<boolean> {
    if (this.#inflight) return this.#inflight.then(() => true);
    if (this.#options.now() - this.#attemptedAt < minIntervalSeconds * 1000)
      return Promise.resolve(false);
    this.#attemptedAt = this.#options.now();
    let fresh = false;
    this.#inflight = this.#fetch()
      .then((jwks) => {
        this.#resolver = createLocalJWKSet(jwks);
        this.#fetchedAt = this.#options.now();
        fresh = true;
      })
      .catch((error: unknown) => {
        this.#lastError = describeError(error);
        this.#options.logger.warn(
          {
            url: redactUrl(this.#options.url!),
            error: this.#lastError,
            code: ProxyErrorCodes.JWKS_FETCH,
            stale: this.#resolver !== undefined,
          },
          this.#resolver
            ? "JWKS refresh failed; the cached keys stay in use"
            : "JWKS fetch failed; tokens cannot be verified yet",
        );
      })
      .finally(() => {
        this.#inflight = undefined;
      });
    return this.#inflight.then(() => fresh);
  }

  async #fetch(): Promise<JSONWebKeySet> {
    const url = this.#options.url!;
    const res = await this.#options.http!.request({
      url,
      headers: { accept: "application/jwk-set+json, application/json" },
    });
    if (res.status !== 200) throw new Error(`JWKS endpoint answered ${res.status}`);
    return parseJwks(res.text(), `The JWKS from ${redactUrl(url)}`);
  }

  #loadFile(): void {
    const file = this.#options.file!;
    try {
      this.#resolver = createLocalJWKSet(
        parseJwks(fs.readFileSync(file, "utf8"), `JWKS file "${file}"`),
      );
    } catch (error) {
      this.#lastError = describeError(error);
      this.#options.logger.error(
        { file, error: this.#lastError, code: ProxyErrorCodes.JWKS_FETCH },
        this.#resolver
          ? "JWKS file reload failed; the previous keys stay in use"
          : "JWKS file unreadable",
      );
    }
  }

  close(): void {
    this.#watcher?.close();
  }
}
