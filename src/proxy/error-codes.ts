/**
 * The proxy's codes. Those for requests appear in the JSON body of the responses the sidecar
 * generates itself (with the `x-sidecar-error` header carrying the Envoy response flag).
 */
export const ProxyErrorCodes = {
  /** 502 UF: no connection to any endpoint could be made. */
  UPSTREAM_CONNECT: "SIDECAR_ERR_PROXY_UPSTREAM_CONNECT",
  /** 502 UC: the upstream closed or reset the connection before a full response. */
  UPSTREAM_RESET: "SIDECAR_ERR_PROXY_UPSTREAM_RESET",
  /**
   * 502 UPE: the upstream's response is malformed or ambiguously framed (e.g. Content-Length
   * with Transfer-Encoding, a coding other than chunked, a bad chunk); never passed on.
   */
  UPSTREAM_PROTOCOL: "SIDECAR_ERR_PROXY_UPSTREAM_PROTOCOL",
  /** 504 UT: no response headers within the route's (per-try) timeout. */
  UPSTREAM_TIMEOUT: "SIDECAR_ERR_PROXY_UPSTREAM_TIMEOUT",
  /** 503 UH: every endpoint is ejected or failing health checks, or DNS gave none. */
  NO_HEALTHY_UPSTREAM: "SIDECAR_ERR_PROXY_NO_HEALTHY_UPSTREAM",
  /** 503 UO: the cluster's maxRequests is reached. */
  OVERFLOW: "SIDECAR_ERR_PROXY_OVERFLOW",
  /** 404 NR: no route matches. */
  NO_ROUTE: "SIDECAR_ERR_PROXY_NO_ROUTE",
  /** 429 RL: a local rate limit is exhausted. */
  RATE_LIMITED: "SIDECAR_ERR_PROXY_RATE_LIMITED",
  /** 400 DPE: malformed request (framing, header syntax). */
  BAD_REQUEST: "SIDECAR_ERR_PROXY_BAD_REQUEST",
  /** 400 DPE: the path was refused by the listener's pathNormalization (encoded slash, fragment, …). */
  PATH_REFUSED: "SIDECAR_ERR_PROXY_PATH_REFUSED",
  /** 431: the header block is over maxHeaderBytes. */
  HEADERS_TOO_LARGE: "SIDECAR_ERR_PROXY_HEADERS_TOO_LARGE",
  /** 414: the request target is over maxUrlBytes. */
  URL_TOO_LONG: "SIDECAR_ERR_PROXY_URL_TOO_LONG",
  /** 413: the body is over maxRequestBodyBytes. */
  BODY_TOO_LARGE: "SIDECAR_ERR_PROXY_BODY_TOO_LARGE",
  /** 408: the client did not send its headers within headersTimeoutSeconds. */
  REQUEST_TIMEOUT: "SIDECAR_ERR_PROXY_REQUEST_TIMEOUT",
  /** At start: a listener's TLS certificate, key or client CA cannot be read or used. */
  TLS_FILE: "SIDECAR_ERR_PROXY_TLS_FILE",
  /** Logged: reloading changed TLS files failed; the previous certificates stay in use. */
  TLS_RELOAD: "SIDECAR_ERR_PROXY_TLS_RELOAD",
  /** 403 CC: the client certificate is not verified (optional mode) or not on the allow-list. */
  CLIENT_CERT_REFUSED: "SIDECAR_ERR_PROXY_CLIENT_CERT_REFUSED",
  /** At start (or logged on reload): the API keys file or an env variable holding a key is missing or malformed. */
  API_KEYS: "SIDECAR_ERR_PROXY_API_KEYS",
  /** Logged: the JWKS URL or file could not be read; cached keys stay in use. */
  JWKS_FETCH: "SIDECAR_ERR_PROXY_JWKS_FETCH",
  /** 500 FE: a filter threw or rejected; the request was not forwarded (also logged). */
  FILTER_FAILED: "SIDECAR_ERR_PROXY_FILTER_FAILED",
  /** 401 UAEX: an authentication filter found no valid credential (WWW-Authenticate says which). */
  UNAUTHENTICATED: "SIDECAR_ERR_PROXY_UNAUTHENTICATED",
  /** 403 UAEX: the client is authenticated but the route's rules (or the auth service) refuse it. */
  FORBIDDEN: "SIDECAR_ERR_PROXY_FORBIDDEN",
  /** 429 RL: too many failed authentication attempts from this client address. */
  AUTH_THROTTLED: "SIDECAR_ERR_PROXY_AUTH_THROTTLED",
  /** 503 UAEX: the forward-auth service could not answer and failureMode is deny. */
  AUTH_SERVICE_UNAVAILABLE: "SIDECAR_ERR_PROXY_AUTH_SERVICE_UNAVAILABLE",
  /** Logged: resolving a dns cluster's name failed (the last good endpoints are kept). */
  DNS_RESOLVE: "SIDECAR_ERR_PROXY_DNS_RESOLVE",
} as const;

export type ProxyErrorCode = (typeof ProxyErrorCodes)[keyof typeof ProxyErrorCodes];
