import { readFile } from "node:fs/promises";
import { z } from "zod";
import { ErrorCodes } from "../error-codes.ts";
import { describeError, SidecarError } from "../errors.ts";

const bearer = z
  .strictObject({
    type: z.literal("bearer"),
    token: z.string().min(1).optional(),
    /** Read on every request, so a rotated token (a projected ServiceAccount token) is picked up. */
    tokenFile: z.string().min(1).optional(),
  })
  .refine((auth) => (auth.token === undefined) !== (auth.tokenFile === undefined), {
    error: 'bearer auth takes exactly one of "token" and "tokenFile"',
  });

/**
 * Credentials for an HTTP endpoint a role calls: `{type: basic, user, password}`,
 * `{type: bearer, token}` or `{type: bearer, tokenFile}`. Never logged (the logger masks
 * `password` and `token`; the client keeps them private).
 */
export const httpAuthSchema = z.discriminatedUnion(
  "type",
  [z.strictObject({ type: z.literal("basic"), user: z.string(), password: z.string() }), bearer],
  { error: 'expected auth type "basic" or "bearer"' },
);
export type HttpAuth = z.infer<typeof httpAuthSchema>;

/**
 * The Authorization header value for `auth`: a string at once, except for a `tokenFile`, which is
 * read now (so a rotated token works) — then a promise. Callers on a hot path check the type
 * instead of awaiting, to spare static credentials a promise per request.
 *
 * @example
 * authorizationHeader({ type: "bearer", token: "t" }); // "Bearer t"
 */
export function authorizationHeader(auth: HttpAuth): string | Promise<string> {
  if (auth.type === "basic")
    return `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString("base64")}`;
  if (auth.token !== undefined) return `Bearer ${auth.token}`;
  return readToken(auth.tokenFile!).then((token) => `Bearer ${token}`);
}

async function readToken(path: string): Promise<string> {
  let token: string;
  try {
    token = (await readFile(path, "utf8")).trim();
  } catch (error) {
    throw new SidecarError(
      ErrorCodes.HTTP_TOKEN_FILE,
      `Cannot read token file "${path}": ${describeError(error)}`,
      { cause: error },
    );
  }
  if (token === "")
    throw new SidecarError(ErrorCodes.HTTP_TOKEN_FILE, `Token file "${path}" is empty`);
  return token;
}

/**
 * Takes credentials out of a URL's userinfo (`https://user:pass@host/`): they become Basic auth
 * unless `auth` is given, and the URL no longer carries them (so it can be logged).
 * Mutates `url`; returns the auth to use.
 */
export function takeUrlCredentials(url: URL, auth: HttpAuth | undefined): HttpAuth | undefined {
  if (!url.username && !url.password) return auth;
  const fromUrl: HttpAuth = {
    type: "basic",
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
  };
  url.username = "";
  url.password = "";
  return auth ?? fromUrl;
}

/**
 * A URL with any userinfo replaced by `***` — use it whenever a URL is logged or shown.
 * Something that is not a URL is shown only up to a possible userinfo.
 *
 * @example
 * redactUrl("https://user:secret@es:9200/_bulk"); // "https://***@es:9200/_bulk"
 */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, "$1***@");
  }
  if (!parsed.username && !parsed.password) return parsed.href;
  parsed.username = "";
  parsed.password = "";
  return parsed.href.replace(/^([a-z][a-z0-9+.-]*:\/\/)/i, "$1***@");
}
