import { errors, type JWTPayload, jwtVerify } from "jose";
import { type JwksKeys, JwksUnavailableError } from "./jwks-keys.ts";

/** Signature algorithms a JWT may use: asymmetric only, so never `none` and never HMAC. */
export const jwtAlgorithms = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
  "Ed25519",
] as const;
export type JwtAlgorithm = (typeof jwtAlgorithms)[number];

export interface JwtRules {
  /** Accepted `iss` values (one must match). */
  issuers: readonly string[];
  /** Accepted audiences (the token's `aud` must hold one); empty skips the check. */
  audiences: readonly string[];
  algorithms: readonly JwtAlgorithm[];
  clockSkewSeconds: number;
  /** Claims that must be present (`exp` is by default). */
  requiredClaims: readonly string[];
  maxTokenBytes: number;
}

/** Why a token was refused: `reason` is logged, `description` goes into WWW-Authenticate. */
export interface JwtFailure {
  reason:
    | "too_large"
    | "malformed"
    | "algorithm"
    | "signature"
    | "unknown_key"
    | "expired"
    | "not_yet_valid"
    | "issuer"
    | "audience"
    | "missing_claim"
    | "jwks_unavailable";
  description: string;
}

export type JwtResult = { claims: JWTPayload } | { failure: JwtFailure };

function failureOf(error: unknown): JwtFailure {
  if (error instanceof JwksUnavailableError)
    return { reason: "jwks_unavailable", description: "the token's keys are unavailable" };
  if (error instanceof errors.JWTExpired)
    return { reason: "expired", description: "the token has expired" };
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === "nbf")
      return { reason: "not_yet_valid", description: "the token is not yet valid" };
    if (error.claim === "iss") return { reason: "issuer", description: "unexpected issuer" };
    if (error.claim === "aud") return { reason: "audience", description: "unexpected audience" };
    if (error.reason === "missing")
      return { reason: "missing_claim", description: `missing claim "${error.claim}"` };
    return { reason: "malformed", description: `invalid claim "${error.claim}"` };
  }
  if (error instanceof errors.JOSEAlgNotAllowed)
    return { reason: "algorithm", description: "algorithm not allowed" };
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys)
    return { reason: "unknown_key", description: "no key matches the token" };
  if (error instanceof errors.JWSSignatureVerificationFailed)
    return { reason: "signature", description: "invalid signature" };
  return { reason: "malformed", description: "malformed token" };
}

/**
 * Verifies a compact JWS JWT: size, algorithm allow-list (checked before any key is looked up),
 * signature with a JWKS key, `iss`, `aud`, `exp`/`nbf` with clock skew, required claims.
 *
 * @example
 * const result = await verifyJwt(token, keys, rules);
 * if ("failure" in result) log(result.failure.reason); else use(result.claims.sub);
 */
export async function verifyJwt(
  token: string,
  keys: JwksKeys,
  rules: JwtRules,
): Promise<JwtResult> {
  if (Buffer.byteLength(token) > rules.maxTokenBytes)
    return {
      failure: { reason: "too_large", description: `token over ${rules.maxTokenBytes} bytes` },
    };
  try {
    const { payload } = await jwtVerify(token, (header, jws) => keys.resolve(header, jws), {
      algorithms: [...rules.algorithms],
      issuer: [...rules.issuers],
      ...(rules.audiences.length > 0 ? { audience: [...rules.audiences] } : {}),
      clockTolerance: rules.clockSkewSeconds,
      requiredClaims: [...rules.requiredClaims],
    });
    return { claims: payload };
  } catch (error) {
    return { failure: failureOf(error) };
  }
}
