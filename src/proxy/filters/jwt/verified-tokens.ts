import type { JWTPayload } from "jose";
import { crypto } from "../../../runtime/builtins.ts";

/**
 * Tokens verified recently (Envoy's `jwt_cache_config`): a repeated token skips the signature
 * check, which costs far more than the rest of the request. Keyed by the token's SHA-256, at
 * most `size` entries (least recently used dropped); an entry is used only while the token's
 * `exp` (plus the skew) and `nbf` still admit it, so expiry is exact. A key removed from the
 * JWKS stops new tokens at once; tokens already cached stay valid until they expire or fall out.
 *
 * @example
 * const cache = new VerifiedTokens(1000, 60);
 * const claims = cache.get(token) ?? verifyAndRemember(token);
 */
export class VerifiedTokens {
  readonly #size: number;
  readonly #skewMs: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, JWTPayload>();

  constructor(size: number, clockSkewSeconds: number, now: () => number = Date.now) {
    this.#size = size;
    this.#skewMs = clockSkewSeconds * 1000;
    this.#now = now;
  }

  static #key(token: string): string {
    return crypto.createHash("sha256").update(token).digest("base64");
  }

  /** The claims of a token verified before and still valid now, else undefined. */
  get(token: string): JWTPayload | undefined {
    if (this.#size === 0) return undefined;
    const key = VerifiedTokens.#key(token);
    const claims = this.#entries.get(key);
    if (!claims) return undefined;
    this.#entries.delete(key);
    const now = this.#now();
    if (typeof claims.exp === "number" && claims.exp * 1000 + this.#skewMs <= now) return undefined;
    this.#entries.set(key, claims);
    if (typeof claims.nbf === "number" && claims.nbf * 1000 - this.#skewMs > now) return undefined;
    return claims;
  }

  remember(token: string, claims: JWTPayload): void {
    if (this.#size === 0) return;
    if (this.#entries.size >= this.#size) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(VerifiedTokens.#key(token), claims);
  }
}
