import type { IncomingMessage } from "node:http";

/** Why a state-changing admin request was refused, for the 403 body and the log. */
export interface RefusedStateChange {
  reason: "non_loopback" | "cross_site";
  message: string;
}

/**
 * Checks a request to a state-changing (POST) admin endpoint such as `/quitquitquit`. Those are
 * for kubelet hooks, scripts and `curl` on the same host, never for a web page:
 *
 * - the client must be local (loopback by default), as in linkerd2-proxy's `/shutdown`;
 * - a browser's request is refused outright: it carries `Origin` (sent on every cross-origin
 *   request and on every POST) or `Sec-Fetch-Site` other than `none`. A page on any site the
 *   operator visits could otherwise POST to `http://127.0.0.1:9901/quitquitquit`, and DNS
 *   rebinding makes even a "same-origin" claim worthless, so no Origin value is trusted.
 *
 * @example
 * const refused = refuseStateChange(req, isLoopback);
 * if (refused) sendJson(res, 403, { error: "forbidden", message: refused.message });
 */
export function refuseStateChange(
  req: IncomingMessage,
  isLocalClient: (remoteAddress: string | undefined) => boolean,
): RefusedStateChange | undefined {
  if (!isLocalClient(req.socket.remoteAddress))
    return {
      reason: "non_loopback",
      message: `${pathOf(req)} is accepted only from loopback`,
    };
  const site = req.headers["sec-fetch-site"];
  if (req.headers.origin !== undefined || (site !== undefined && site !== "none"))
    return {
      reason: "cross_site",
      message: `${pathOf(req)} refuses browser requests (Origin or Sec-Fetch-Site present)`,
    };
  return undefined;
}

function pathOf(req: IncomingMessage): string {
  return (req.url ?? "/").split("?")[0]!;
}
