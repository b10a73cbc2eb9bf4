/**
 * The verdict on one connection played against both request sides: the same (after masking),
 * a difference allowed by a named rule, or a failure. The rules are the documented ones: the
 * node:net side's parser is stricter than llhttp where docs/proxy.md ("Request parsing") says
 * so, and answers the refusals node:http answers without the listener in the listener's way.
 */
import { documentedException } from "../../transport/testing/documented-exception.ts";
import type { RequestOutcome } from "../../transport/testing/request-oracle.ts";
import type { PlayedCase } from "./play-case.ts";
import { type ReceivedResponse, type ReceivedStream, readResponses } from "./received-responses.ts";

export interface Side {
  played: PlayedCase;
  stream: ReceivedStream;
}

export function side(played: PlayedCase): Side {
  return { played, stream: readResponses(played.received) };
}

/** What RequestParser and llhttp made of the case's bytes (for the parser's rules). */
export interface ParserView {
  ours: RequestOutcome;
  theirs: RequestOutcome;
}

export type Verdict = { kind: "same" } | { kind: "allowed"; rule: string } | { kind: "different" };

/** A response as compared: everything but a local reply's message text. */
const key = ({ message: _, ...r }: ReceivedResponse) => JSON.stringify(r);

const refusalStatuses = new Set([400, 431, 501, 505]);
const status = (r: ReceivedResponse) => Number(r.statusLine.slice(9, 12));
/** A refusal the listener answers (a local reply flagged DPE). */
const refusal = (r: ReceivedResponse | undefined) =>
  r !== undefined && r.flag === "DPE" && refusalStatuses.has(status(r));

/** Whether the two sides got the same bytes, once masked. */
export function sameOutcome(net: Side, node: Side): boolean {
  return (
    net.played.closed === node.played.closed &&
    net.stream.rest === node.stream.rest &&
    net.stream.responses.length === node.stream.responses.length &&
    net.stream.responses.every((r, i) => key(r) === key(node.stream.responses[i]!))
  );
}

/** The index of the first response that differs (or that one side lacks). */
export function firstDifference(net: Side, node: Side): number {
  const a = net.stream.responses;
  const b = node.stream.responses;
  let i = 0;
  while (i < a.length && i < b.length && key(a[i]!) === key(b[i]!)) i++;
  return i;
}

/** Compares the two sides; `parser` is asked only when they differ. */
export async function verdict(
  bytes: Buffer,
  net: Side,
  node: Side,
  parser: () => Promise<ParserView>,
): Promise<Verdict> {
  if (sameOutcome(net, node)) return { kind: "same" };
  const i = firstDifference(net, node);
  const ours = net.stream.responses[i];
  const theirs = node.stream.responses[i];
  // Each side's answer at i is its last, and it closed the connection.
  const lastOnNet = net.played.closed && net.stream.responses.length === i + 1;
  const lastOnNode = node.played.closed && node.stream.responses.length === i + 1;
  if (lastOnNet && refusal(ours) && net.stream.rest === "") {
    // node:http answers an HTTP/1.1 request without Host itself (requireHostHeader), with a
    // bare 400, where ours refuses it (for that or for a defect it met first) as a local reply.
    if (
      lastOnNode &&
      theirs !== undefined &&
      status(theirs) === 400 &&
      theirs.flag === undefined &&
      theirs.body === ""
    )
      return { kind: "allowed", rule: "HTTP/1.1 without Host: node:http answers its own 400" };
    // node:http's side may meet the listener's limits first (413 for a Content-Length over
    // maxRequestBodyBytes that ours refuses as over 2^53 - 1), or answer the request with a
    // local reply (a target the router refuses) and refuse what follows, or wait for its body.
    if (
      theirs !== undefined &&
      node.stream.responses.slice(i).every((r) => r.flag === "DPE" && status(r) >= 400)
    )
      return { kind: "allowed", rule: "both refuse, each at the first defect it meets" };
    const view = await parser();
    const why =
      view.ours.error !== undefined &&
      view.ours.status === status(ours!) &&
      view.ours.requests.length <= view.theirs.requests.length
        ? documentedException(bytes.toString("latin1"), view.ours, view.theirs)
        : undefined;
    if (why) return { kind: "allowed", rule: `stricter parser: ${why}` };
    // llhttp took the head ours refused and waits for its body (the oracle records only
    // complete requests, so documentedException has no request to check): the refusal must
    // be one of the head rules of docs/proxy.md.
    if (
      !node.played.closed &&
      theirs === undefined &&
      node.stream.rest === "" &&
      view.ours.status === status(ours!) &&
      headRules.has(view.ours.error ?? "")
    )
      return { kind: "allowed", rule: `stricter parser: ${view.ours.error}, before the body` };
  }
  // One side closed without another answer where the other answered on (the request in
  // progress, then maybe a refusal of the next bytes) and closed: node:http (on its side, or
  // after a hand-off on the node:net side) closes a connection unanswered on a parse error, or
  // a pipelined CONNECT, while a response is in progress, and answers it once that response
  // was written.
  const extra = (a: Side, b: Side) =>
    a.played.closed &&
    b.played.closed &&
    b.stream.responses.length === i &&
    a.stream.rest === "" &&
    a.stream.responses.length > i &&
    a.stream.responses.slice(i, -1).every((r) => !refusal(r));
  if (
    extra(net, node) ||
    (extra(node, net) &&
      refusal(theirs) &&
      node.stream.responses.length === i + 1 &&
      (theirs!.body === "" || theirs!.message?.startsWith("Malformed request") === true))
  )
    return { kind: "allowed", rule: closesUnanswered };
  // Nothing more from the node:net side, still open, where node:http refused the next head
  // at a bad byte before its end (or closed unanswered, a response being in progress).
  if (
    !net.played.closed &&
    net.stream.responses.length === i &&
    net.stream.rest === "" &&
    node.played.closed &&
    node.stream.responses.length <= i + 1 &&
    (theirs === undefined || (theirs.flag === "DPE" && status(theirs) >= 400)) &&
    (await parser()).ours.error === "INCOMPLETE"
  )
    return { kind: "allowed", rule: waitsForHead };
  return { kind: "different" };
}

/** RequestParser's refusals of a head that llhttp takes (docs/proxy.md, "Request parsing"). */
const headRules: ReadonlySet<string> = new Set([
  "INVALID_METHOD",
  "INVALID_TARGET",
  "INVALID_VERSION",
  "UNSUPPORTED_VERSION",
  "DUPLICATE_HOST",
  "MISSING_HOST",
  "INVALID_CONTENT_LENGTH",
  "INVALID_TRANSFER_ENCODING",
  "UNSUPPORTED_TRANSFER_ENCODING",
]);

const closesUnanswered =
  "node:http: a parse error while a response is in progress closes the connection unanswered";

/**
 * node:net side: bytes that cannot start a request (`XX`) are refused once their head ends
 * (or at the headers timeout); llhttp refuses them at the first byte that cannot be a method's.
 */
const waitsForHead = "RequestParser refuses a head at its end, llhttp at its first bad byte";

/** A failure's report: the case, its cuts and both sides' bytes. */
export function describe(
  kind: string,
  bytes: Buffer,
  cuts: readonly number[],
  net: Side,
  node: Side,
): string {
  const show = (s: Side) =>
    `${s.played.closed ? "closed" : "open"} ${JSON.stringify(s.played.received)}`;
  return `${kind}, cuts [${cuts.join(", ")}]: ${JSON.stringify(bytes.toString("latin1"))}\n  net:  ${show(net)}\n  node: ${show(node)}`;
}
