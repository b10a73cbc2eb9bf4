import { resolve } from "node:path";
import type { AppOutputTap } from "../runtime/app/app-output.ts";
import type { ComponentContext } from "../runtime/component.ts";
import { describeError } from "../runtime/errors.ts";
import { capped } from "../runtime/memory-budget.ts";
import type { Role } from "../runtime/role.ts";
import type { RoleMemory } from "../runtime/role-definition.ts";
import type { Logger } from "../runtime/telemetry/logger.ts";
import type { Registry } from "../runtime/telemetry/metrics-registry.ts";
import type { Parser, Sink, Transform } from "./log-event.ts";
import type { LogsConfig, LogsSourceConfig } from "./logs-config.ts";
import { LogsMetrics } from "./logs-metrics.ts";
import { parserComponents } from "./parsers/index.ts";
import { Pipeline, type PipelineSource } from "./pipeline/pipeline.ts";
import { sinkComponents } from "./sinks/index.ts";
import { createFileSource, type FileSource } from "./sources/file/index.ts";
import type { LogSource } from "./sources/log-source.ts";
import {
  createStdoutSource,
  type SpooledStdoutSource,
  type StdoutSource,
} from "./sources/stdout/index.ts";
import { transformComponents } from "./transforms/index.ts";

export interface LogsRoleContext {
  logger: Logger;
  registry: Registry;
  now?: () => number;
  /** Caps on the buffers under a memory limit, and when to pause reading (default: neither). */
  memory?: RoleMemory;
}

export interface LogsRole extends Role {
  /** The tap for the app's stdout/stderr when a `stdout` source is configured. */
  readonly appOutput: AppOutputTap | undefined;
  /** The file sources (for status and tests). */
  readonly fileSources: readonly FileSource[];
}

interface Built {
  source: LogSource;
  pipelineSource: PipelineSource;
}

type AnyComponent = { type: string; build(config: never, ctx: ComponentContext): unknown };

function build<T>(
  components: readonly AnyComponent[],
  config: { type: string },
  ctx: ComponentContext,
): T {
  const component = components.find((c) => c.type === config.type);
  if (!component) throw new TypeError(`Unknown component type "${config.type}"`);
  return component.build(config as never, ctx) as T;
}

/**
 * The logs role: tails files (and the app's stdout/stderr in `sidecar run`), parses and
 * transforms lines, and ships them to every sink at least once. It starts before the app and
 * stops after it: on stop it reads what the app wrote up to its exit, drains the buffer to the
 * sinks within the deadline, commits checkpoints and logs what was left unsent.
 *
 * @example
 * const role = createLogsRole(config.logs, { logger, registry });
 * await role.start(); … await role.stop(AbortSignal.timeout(30_000));
 */
export function createLogsRole(config: LogsConfig, roleCtx: LogsRoleContext): LogsRole {
  const { logger } = roleCtx;
  const ctx: ComponentContext = {
    logger,
    registry: roleCtx.registry,
    stateDir: resolve(config.stateDir),
    now: roleCtx.now ?? Date.now,
  };
  const built: Built[] = [];
  const metrics = new LogsMetrics(roleCtx.registry, () => built.map((b) => b.source));
  const budget = roleCtx.memory?.budget;
  const sinks: Sink[] = config.sinks.map((sink) =>
    build<Sink>(
      sinkComponents,
      budget
        ? {
            ...sink,
            maxInFlight: capped(sink.maxInFlight, budget.logs.maxInFlight, budget),
            batch: {
              ...sink.batch,
              maxBytes: capped(sink.batch.maxBytes, budget.logs.batchMaxBytes, budget),
            },
          }
        : sink,
      ctx,
    ),
  );
  const transforms: Transform[] = config.transforms.map((t) =>
    build<Transform>(transformComponents, t, ctx),
  );
  const names = new Set<string>();
  let stdout: StdoutSource | SpooledStdoutSource | undefined;
  const fileSources: FileSource[] = [];
  const closeable: { close(): Promise<void> }[] = [];
  config.sources.forEach((sourceConfig: LogsSourceConfig, index) => {
    const name = sourceConfig.name ?? (sourceConfig.type === "file" ? `file-${index}` : "stdout");
    if (names.has(name)) throw new TypeError(`Two logs sources are named "${name}"`);
    names.add(name);
    const hooks = {
      onRead: (lines: number, bytes: number) => {
        metrics.linesRead.inc({ source: name }, lines);
        metrics.bytesRead.inc({ source: name }, bytes);
      },
      onLongLine: () => metrics.longLines.inc({ source: name }),
      onCheckpointError: () => metrics.checkpointErrors.inc(),
      onCheckpointWrite: () => metrics.checkpointWrites.inc({ source: name }),
    };
    let source: LogSource;
    if (sourceConfig.type === "file") {
      const file = createFileSource({ ...sourceConfig, name }, ctx, hooks);
      fileSources.push(file);
      closeable.push(file);
      source = file;
    } else {
      stdout = createStdoutSource({ ...sourceConfig, name }, ctx, hooks);
      if ("files" in stdout) closeable.push(stdout);
      source = stdout;
    }
    const parser = build<Parser & { flushTimeoutMs?: number }>(
      parserComponents,
      sourceConfig.parser ?? { type: "none" },
      ctx,
    );
    const pipelineSource: PipelineSource = {
      name,
      parser,
      ...(parser.flushTimeoutMs === undefined ? {} : { flushTimeoutMs: parser.flushTimeoutMs }),
      commit: (streamId, offset) => source.commit(streamId, offset),
    };
    built.push({ source, pipelineSource });
  });
  const pipeline = new Pipeline({
    sinks,
    transforms,
    maxBufferBytes: budget
      ? capped(config.buffer.maxBytes, budget.logs.bufferMaxBytes, budget)
      : config.buffer.maxBytes,
    ...(roleCtx.memory ? { pressure: roleCtx.memory.pressure } : {}),
    batchEvents: config.buffer.batchEvents,
    logger,
    metrics,
    now: ctx.now,
  });
  let running = false;
  let stopping: Promise<void> | undefined;

  async function stop(deadline: AbortSignal): Promise<void> {
    running = false;
    // The app has stopped (this role stops after it): read what it wrote, then drain.
    const readAll = Promise.all(built.map((b) => b.source.stop()));
    const stopped = await Promise.race([readAll.then(() => true), aborted(deadline)]);
    if (!stopped) logger.warn("shutdown deadline reached while reading the last lines");
    await pipeline.drain(deadline);
    const unsentInBuffer = pipeline.bufferedBytes;
    let unsent = 0;
    for (const sink of sinks) {
      try {
        unsent += await sink.close(deadline);
      } catch (error) {
        logger.error({ sink: sink.name, error: describeError(error) }, "sink close failed");
      }
    }
    for (const { source } of built) {
      try {
        await source.checkpoint();
      } catch (error) {
        metrics.checkpointErrors.inc();
        logger.error({ source: source.name, error }, "final checkpoint failed");
      }
    }
    const summary = {
      unsentEvents: unsent,
      unacknowledgedBytes: unsentInBuffer,
      failedEvents: pipeline.failedEvents,
      lagBytes: built.reduce((sum, b) => sum + b.source.lagBytes(), 0),
    };
    for (const source of closeable) await source.close();
    if (unsent > 0 || unsentInBuffer > 0 || pipeline.failedEvents > 0)
      logger.warn(
        summary,
        "logs stopped with lines unsent; file lines past the checkpoints are read again on the next start",
      );
    else logger.info(summary, "logs stopped; everything read was delivered");
  }

  return {
    name: "logs",
    appOutput: stdout,
    fileSources,
    async start() {
      pipeline.start();
      for (const { source, pipelineSource } of built)
        await source.start((lines) => pipeline.accept(pipelineSource, lines));
      running = true;
    },
    ready: () => running,
    notReadyReason: () => (stopping ? "stopping" : "not started"),
    stop(deadline) {
      stopping ??= stop(deadline);
      return stopping;
    },
  };
}

function aborted(signal: AbortSignal): Promise<false> {
  return signal.aborted
    ? Promise.resolve(false)
    : new Promise((resolve) =>
        signal.addEventListener("abort", () => resolve(false), { once: true }),
      );
}
