import { resolve } from "node:path";
import { describeError, SidecarError } from "../runtime/errors.ts";
import type { Role } from "../runtime/role.ts";
import type { RoleContext } from "../runtime/role-definition.ts";
import { buildVersion } from "./build-version.ts";
import { ConfigMetrics, type FailStage } from "./config-metrics.ts";
import type { ConfigSection } from "./config-section.ts";
import { registerConfigAdmin } from "./config-status.ts";
import { type ConfigErrorCode, ConfigErrorCodes } from "./error-codes.ts";
import { buildNotifyTargets, Notifier, type NotifyStatus } from "./notify/index.ts";
import { chooseLayout, type PreparedOutput, prepareOutputs } from "./prepare-outputs.ts";
import { PlainPublisher } from "./publish/plain-publisher.ts";
import { type Publisher, type PublishFile, versionHash } from "./publish/publisher.ts";
import { VersionedPublisher } from "./publish/versioned-publisher.ts";
import { Quiescence } from "./quiescence.ts";
import { buildSource, type ConfigSource } from "./sources/index.ts";

const stageCodes: Record<FailStage, ConfigErrorCode> = {
  fetch: ConfigErrorCodes.SOURCE_READ,
  render: ConfigErrorCodes.RENDER,
  validate: ConfigErrorCodes.VALIDATE,
  publish: ConfigErrorCodes.PUBLISH,
};

/** The current version as /config shows it: hashes and sizes, never content. */
export interface PublishedVersion {
  hash: string;
  at: number;
  dir: string;
  files: { path: string; bytes: number; mode: string; hash: string }[];
  /** Each source's version that went into it. */
  sources: Record<string, string>;
}

export interface VersionFailure {
  stage: FailStage;
  code: string;
  reason: string;
  at: number;
}

/**
 * The config role: reads its sources, renders the outputs from their merged values, validates
 * them, publishes them atomically into outputDir and notifies the app. `start()` resolves once
 * the first good version is published (the app starts after it in `sidecar run`), or rejects
 * naming each required source that was not read within its timeout. Later changes are batched
 * by the quiescence wait; a version that fails any stage is never published and the last good
 * one stays.
 *
 * @example
 * const role = createConfigRole(section, ctx);
 * await role.start(); // outputs are in section.outputDir
 */
export class ConfigRole implements Role {
  readonly name = "config";
  readonly #section: ConfigSection;
  readonly #ctx: RoleContext;
  readonly #sources: ConfigSource[];
  readonly #metrics: ConfigMetrics;
  readonly #notifier: Notifier;
  readonly #wait: Quiescence;
  readonly #outputDir: string;
  #outputs: PreparedOutput[] = [];
  #publisher: Publisher | undefined;
  #published: PublishedVersion | undefined;
  /** A version found in outputDir at start (an earlier run): not republished when equal. */
  #onDiskHash: string | undefined;
  #failure: VersionFailure | undefined;
  #failureKey: string | undefined;
  #building: Promise<void> | undefined;
  #again = false;
  #starting = true;
  #stopped = false;
  #firstGood: (() => void) | undefined;
  readonly #optionalGaveUp = new Set<string>();
  readonly #stopping = new AbortController();
  readonly #lastSourceError = new Map<string, string>();

  constructor(section: ConfigSection, ctx: RoleContext) {
    this.#section = section;
    this.#ctx = ctx;
    this.#outputDir = resolve(section.outputDir);
    this.#sources = section.sources.map((config) =>
      buildSource(config, { logger: ctx.logger, clock: ctx.clock }),
    );
    this.#metrics = new ConfigMetrics(ctx.registry, () => this.#sources);
    const targets = buildNotifyTargets(section.notify, { clock: ctx.clock, app: ctx.app });
    this.#notifier = new Notifier(
      targets,
      {
        onResult: (target, result, version, error) => {
          this.#metrics.notifications.inc({ kind: target.kind, result });
          if (result === "error")
            ctx.logger.warn(
              {
                code: ConfigErrorCodes.NOTIFY,
                notify: target.describe,
                version: version.hash,
                error,
              },
              "config notification failed",
            );
          else if (result === "ok")
            ctx.logger.info(
              { notify: target.describe, version: version.hash },
              "app notified of config version",
            );
        },
      },
      () => ctx.clock.now(),
    );
    const minMs = section.wait.minSeconds * 1000;
    const maxMs = (section.wait.maxSeconds ?? section.wait.minSeconds * 4) * 1000;
    this.#wait = new Quiescence({ minMs, maxMs, clock: ctx.clock }, () => this.#build());
  }

  get sources(): readonly ConfigSource[] {
    return this.#sources;
  }

  get published(): PublishedVersion | undefined {
    return this.#published;
  }

  get failure(): VersionFailure | undefined {
    return this.#failure;
  }

  get notifications(): NotifyStatus[] {
    return this.#notifier.status;
  }

  get outputDir(): string {
    return this.#outputDir;
  }

  /** Resolves when no build or notification is running or waiting (for tests and --once). */
  async settled(): Promise<void> {
    for (;;) {
      while (this.#building || this.#wait.pending) {
        await this.#building;
        if (this.#wait.pending) await new Promise((r) => setTimeout(r, 5));
      }
      await this.#notifier.idle();
      if (!this.#building && !this.#wait.pending) return;
    }
  }

  async start(): Promise<void> {
    this.#outputs = await prepareOutputs(this.#section);
    const layout = chooseLayout(this.#section.layout, this.#outputs);
    this.#publisher =
      layout === "plain"
        ? new PlainPublisher(this.#outputDir)
        : new VersionedPublisher(this.#outputDir, { keepVersions: this.#section.keepVersions });
    const singlePaths = this.#outputs.map((o) => o.path);
    this.#onDiskHash = await this.#publisher.currentHash(singlePaths).catch(() => undefined);
    const firstGood = new Promise<void>((done) => {
      this.#firstGood = done;
    });
    for (const source of this.#sources) {
      source.start({
        onSnapshot: () => {
          this.#lastSourceError.delete(source.name);
          this.#metrics.sourceChanges.inc({ source: source.name });
          if (this.#starting) this.#build();
          else this.#wait.poke();
        },
        onError: (error) => {
          // Counted once per distinct failure of a source, not per retry.
          if (this.#lastSourceError.get(source.name) !== error.message) {
            this.#lastSourceError.set(source.name, error.message);
            this.#metrics.failedVersions.inc({ stage: "fetch" });
          }
          if (this.#starting) this.#build();
        },
      });
    }
    const timeoutMs =
      Math.max(
        ...this.#section.sources.filter((s) => s.required).map((s) => s.timeoutSeconds),
        0.1,
      ) * 1000;
    let timer: { cancel(): void } | undefined;
    const timedOut = new Promise<"timeout">((done) => {
      timer = this.#ctx.clock.setTimeout(() => done("timeout"), timeoutMs);
    });
    const stopped = new Promise<"stopped">((done) =>
      this.#stopping.signal.addEventListener("abort", () => done("stopped"), { once: true }),
    );
    // Optional sources get their own timeout, then the first version goes without them.
    for (const [index, config] of this.#section.sources.entries()) {
      if (!config.required)
        this.#ctx.clock.setTimeout(() => {
          this.#optionalGaveUp.add(this.#sources[index]!.name);
          if (this.#starting) this.#build();
        }, config.timeoutSeconds * 1000);
    }
    const outcome = await Promise.race([firstGood, timedOut, stopped]);
    timer?.cancel();
    if (outcome === "stopped") return;
    if (outcome === "timeout") {
      await this.#building;
      if (!this.#published) throw this.#startError(timeoutMs);
    }
    this.#starting = false;
    this.#ctx.logger.info(
      {
        version: this.#published!.hash,
        outputDir: this.#outputDir,
        files: this.#published!.files.length,
      },
      "config ready",
    );
    if (this.#section.once) {
      if (this.#ctx.app) this.#ctx.logger.warn("config: once is ignored in sidecar run");
      else this.#ctx.requestStop("config published (--once)", 0);
    }
  }

  /** Why the first version is not there: the required sources not read (path-named), else the last failure. */
  #startError(timeoutMs: number): SidecarError {
    const missing = this.#sources.filter(
      (source, index) => this.#section.sources[index]!.required && !source.snapshot,
    );
    if (missing.length > 0) {
      const lines = missing.map(
        (s) => `source "${s.name}" (${s.type} ${s.target}): ${s.status.lastError ?? "no answer"}`,
      );
      return new SidecarError(
        ConfigErrorCodes.SOURCE_TIMEOUT,
        `Config source ${missing.map((s) => `"${s.name}" at "${s.target}"`).join(", ")} not read within ${timeoutMs / 1000} s: ${missing[0]!.status.lastError ?? "no answer"}`,
        { details: lines },
      );
    }
    const failure = this.#failure;
    if (failure)
      return new SidecarError(
        failure.code,
        `No config version could be published: ${failure.reason}`,
      );
    return new SidecarError(
      ConfigErrorCodes.SOURCE_TIMEOUT,
      `No config version was published within ${timeoutMs / 1000} s`,
    );
  }

  ready(): boolean {
    return this.#published !== undefined;
  }

  readonly notReadyReason = (): string | undefined => {
    if (this.#published) return undefined;
    const waiting = this.#sources
      .filter((s, i) => this.#section.sources[i]!.required && !s.snapshot)
      .map((s) => `"${s.name}" (${s.status.lastError ?? "not read yet"})`);
    if (waiting.length) return `waiting for config source ${waiting.join(", ")}`;
    if (this.#failure) return `no good config version yet: ${this.#failure.reason}`;
    return "building the first config version";
  };

  /** After the first good version, a failed newer one is served around, and said on /readyz. */
  readonly degradedReason = (): string | undefined =>
    this.#published && this.#failure
      ? `serving the last good config version; the newest failed (${this.#failure.stage}): ${this.#failure.reason}`
      : undefined;

  /** Whether the first version may be built: required sources read, optional ones read or given up. */
  #canBuild(): boolean {
    return this.#sources.every((source, index) => {
      const config = this.#section.sources[index]!;
      if (source.snapshot) return true;
      if (config.required) return false;
      return source.status.lastError !== undefined || this.#optionalGaveUp.has(source.name);
    });
  }

  /** Builds now; serialized, and a request during a build builds once more after it. */
  #build(): void {
    if (this.#stopped) return;
    if (this.#building) {
      this.#again = true;
      return;
    }
    this.#building = (async () => {
      do {
        this.#again = false;
        if (!this.#canBuild()) break;
        try {
          await this.#buildOnce();
        } catch (error) {
          this.#ctx.logger.error(
            { error: describeError(error) },
            "config build failed unexpectedly",
          );
        }
      } while (this.#again && !this.#stopped);
    })().finally(() => {
      this.#building = undefined;
    });
  }

  async #buildOnce(): Promise<void> {
    const sources = this.#sources.flatMap((source, index) =>
      source.snapshot
        ? [
            {
              name: source.name,
              snapshot: source.snapshot,
              parse: this.#section.sources[index]!.parse,
            },
          ]
        : [],
    );
    const inputs = Object.fromEntries(sources.map((s) => [s.name, s.snapshot.version]));
    const previous = this.#published?.hash ?? this.#onDiskHash;
    const result = await buildVersion({
      outputs: this.#outputs,
      sources,
      publisher: this.#publisher!,
      currentHash: previous,
    });
    if (result.outcome === "failed") {
      const reason =
        result.stage === "publish" ? `"${this.#outputDir}": ${result.reason}` : result.reason;
      return this.#fail(result.stage, reason, JSON.stringify(inputs));
    }
    this.#clearFailure();
    if (result.outcome === "unchanged") {
      // Found on disk at start (an earlier run published it): the app has it already.
      if (!this.#published) this.#record(result.hash, result.files, inputs);
      return;
    }
    this.#record(result.hash, result.files, inputs);
    this.#metrics.publishes.inc();
    this.#ctx.logger.info(
      { version: result.hash, previous, files: result.files.length, sources: inputs },
      "config version published",
    );
    // The app is told of a change to config it already has: not of the first version, not
    // before `sidecar run` starts it, and not by an init container (--once).
    const appRunning = !(this.#starting && this.#ctx.app) && !this.#section.once;
    if (previous !== undefined && appRunning)
      this.#notifier.notify({ hash: result.hash, dir: this.#published!.dir });
  }

  #record(hash: string, files: PublishFile[], inputs: Record<string, string>): void {
    const dir = this.#publisher!.currentDir;
    const at = this.#ctx.clock.now();
    this.#published = {
      hash,
      at,
      dir: dir ?? this.#outputDir,
      files: files.map((f) => ({
        path: f.path,
        bytes: f.data.length,
        mode: `0${f.mode.toString(8)}`,
        hash: versionHash([{ ...f, mode: 0 }]),
      })),
      sources: inputs,
    };
    this.#metrics.setVersion(hash, at);
    if (this.#starting) this.#firstGood?.();
  }

  /** A version that failed: logged and counted once per input versions and reason; the last good stays. */
  #fail(stage: FailStage, reason: string, inputKey: string): void {
    const code = stageCodes[stage];
    this.#failure = { stage, code, reason, at: this.#ctx.clock.now() };
    const key = `${stage}\n${reason}\n${inputKey}`;
    if (key === this.#failureKey) return;
    this.#failureKey = key;
    this.#metrics.failedVersions.inc({ stage });
    this.#ctx.logger.warn(
      { code, stage, error: reason, kept: this.#published?.hash ?? this.#onDiskHash ?? null },
      "config version kept back",
    );
  }

  #clearFailure(): void {
    this.#failure = undefined;
    this.#failureKey = undefined;
  }

  async stop(deadline: AbortSignal): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#stopping.abort();
    this.#wait.cancel();
    const closing = Promise.all([
      this.#notifier.close(),
      this.#building,
      ...this.#sources.map((s) => s.close()),
    ]);
    await Promise.race([
      closing,
      new Promise((done) => deadline.addEventListener("abort", done, { once: true })),
    ]);
  }
}

/** Builds the config role from its validated section. */
export function createConfigRole(section: ConfigSection, ctx: RoleContext): ConfigRole {
  const role = new ConfigRole(section, ctx);
  registerConfigAdmin(ctx.admin, role, ctx.clock);
  return role;
}
