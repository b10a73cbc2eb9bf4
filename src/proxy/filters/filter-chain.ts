import type { Logger } from "../../runtime/telemetry/logger.ts";
import { ProxyErrorCodes } from "../error-codes.ts";
import type { LocalReply } from "../local-reply.ts";
import type { FilterContext, FilterResult, ProxyFilter } from "./filter.ts";

/**
 * The filters one request passes, in order: the listener's, then its route's (hono's
 * `compose()`, Envoy's HTTP filter chain). Built once per listener and route; a request with
 * an empty chain skips all of this.
 *
 * @example
 * const chain = new FilterChain([rateLimit, addHeader], logger);
 * const result = chain.run(ctx); // undefined: go on; a LocalReply: answer it; a promise of either
 */
export class FilterChain {
  readonly filters: readonly ProxyFilter[];
  readonly logger: Logger;
  /** Filters with a response hook, last first. */
  readonly #responders: readonly ProxyFilter[];

  constructor(filters: readonly ProxyFilter[], logger: Logger) {
    this.filters = filters;
    this.logger = logger;
    this.#responders = filters.filter((f) => f.onResponse !== undefined).reverse();
  }

  /**
   * Runs each filter's `onRequest` until one answers. Synchronous while every filter answers
   * synchronously; from the first promise on, the rest runs after it settles. Never throws or
   * rejects: a failing filter gives a 500 reply.
   */
  run(ctx: FilterContext): FilterResult | Promise<FilterResult> {
    return this.#runFrom(ctx, 0);
  }

  #runFrom(ctx: FilterContext, start: number): FilterResult | Promise<FilterResult> {
    const filters = this.filters;
    for (let i = start; i < filters.length; i++) {
      const filter = filters[i]!;
      let result: FilterResult | Promise<FilterResult>;
      try {
        result = filter.onRequest(ctx);
      } catch (error) {
        return this.#failed(filter, ctx, error);
      }
      if (result === undefined) continue;
      if (result instanceof Promise)
        return result.then(
          (reply) => (reply === undefined ? this.#runFrom(ctx, i + 1) : reply),
          (error: unknown) => this.#failed(filter, ctx, error),
        );
      return result;
    }
    return undefined;
  }

  /** Runs the response hooks, last filter first; a hook that throws is logged and skipped. */
  respond(ctx: FilterContext, status: number): void {
    for (const filter of this.#responders) {
      try {
        filter.onResponse!(ctx, status);
      } catch (error) {
        ctx.logger.error(
          { error, filter: filter.type, code: ProxyErrorCodes.FILTER_FAILED },
          "filter failed on the response",
        );
      }
    }
  }

  #failed(filter: ProxyFilter, ctx: FilterContext, error: unknown): LocalReply {
    ctx.logger.error(
      { error, filter: filter.type, code: ProxyErrorCodes.FILTER_FAILED },
      "filter failed on the request",
    );
    return {
      status: 500,
      code: ProxyErrorCodes.FILTER_FAILED,
      flag: "FE",
      message: `Filter "${filter.type}" failed; the request was not forwarded`,
    };
  }
}
