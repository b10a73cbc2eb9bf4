import { after } from "node:test";
import type { ComponentContext } from "../../../runtime/component.ts";
import type { Sink } from "../../log-event.ts";
import { HttpReceiver } from "./http-receiver.ts";
import { testContext } from "./test-context.ts";

/**
 * The setup of an HTTP-based sink's tests: each call starts a real receiver on loopback and a
 * sink pointed at it (fast retries), built from `base(receiverUrl)` with `config` over it.
 * Every receiver is stopped after the file's tests.
 */
export function httpSinkSetup<Config>(
  schema: { parse(value: unknown): Config },
  create: (config: Config, ctx: ComponentContext) => Sink,
  base: (receiverUrl: string) => Record<string, unknown>,
) {
  const receivers: HttpReceiver[] = [];
  after(async () => {
    for (const r of receivers) await r.stop();
  });
  return async (config: Record<string, unknown> = {}) => {
    const receiver = await new HttpReceiver().start();
    receivers.push(receiver);
    const ctx = await testContext();
    const sink = create(
      schema.parse({
        ...base(receiver.url),
        retry: { initialBackoffSeconds: 0.005, maxBackoffSeconds: 0.02 },
        ...config,
      }),
      ctx,
    );
    return { receiver, ctx, sink };
  };
}
