/**
 * The engine: a set of models, each served by its own runner (queue, batcher, worker
 * pool), plus the process-wide pieces: event log, event-loop delay and the snapshot
 * that gathers every statistic into one JSON object.
 *
 * The engine imports nothing from Electron: the desktop app and the headless server
 * are two thin shells around it.
 */
import { MODEL_NAME_PATTERN, RANGES } from '../../src-preload/limits.js';
import { readFile } from 'node:fs/promises';
import {
  parseServingConfig,
  type BatchingConfig,
  type ModelServingConfig,
  type ModelServingConfigInput,
  type QueueConfig,
} from './config.js';
import { asError, ConfigError, ModelLoadError, ShuttingDownError, UnknownModelError } from './errors.js';
import { EventLog, type EngineEvent, type EventListener } from './events.js';
import { ModelRunner, type SwapOptions, type SwapRecord, type VersionSnapshot } from './model-runner.js';
import type { InferOptions, InferResult } from './request.js';
import type { ModelSignature, ProbeEvidence, ServingPlan } from './signature.js';
import type { EngineSnapshot } from './snapshot.js';
import { LoopDelayMonitor } from './stats/loop-delay.js';
import type { VersionStatistics } from './version-statistics.js';
import type { FaultKind } from './worker/protocol.js';

export interface EngineOptions {
  /** Seconds over which rates and windowed percentiles are computed. Default 10. */
  readonly windowSeconds?: number;
  /** Events kept in the log. Default 1000. */
  readonly eventCapacity?: number;
}

export interface LoadModelOptions {
  readonly name: string;
  /** A path to an .onnx file, or the model's bytes. */
  readonly source: string | Uint8Array;
  readonly version?: number;
  readonly config?: ModelServingConfigInput;
  /** The sha256 the bytes were validated with; loading fails with ChecksumMismatchError if they differ. */
  readonly expectedSha256?: string;
  /** The batching probe's evidence from validation; without it the engine probes at load (batching.mode "auto"). */
  readonly evidence?: ProbeEvidence | null;
}

/** A loaded model's calling surface, so hot loops skip the name lookup. */
export interface ModelHandle {
  readonly name: string;
  readonly plan: ServingPlan;
  readonly signature: ModelSignature;
  /** The active version. */
  readonly version: number;
  infer(inputs: unknown, options?: InferOptions): Promise<InferResult>;
}

export class Engine {
  readonly events: EventLog;
  private readonly models = new Map<string, ModelRunner>();
  private readonly loopDelay: LoopDelayMonitor;
  private readonly windowSeconds: number;
  private readonly startedAt = performance.now();
  private state: EngineSnapshot['state'] = 'running';

  constructor(options: EngineOptions = {}) {
    this.windowSeconds = checkedInt('windowSeconds', options.windowSeconds ?? 10, 1, 3600);
    this.events = new EventLog(checkedInt('eventCapacity', options.eventCapacity ?? 1000, 1, 1_000_000));
    this.loopDelay = new LoopDelayMonitor(this.windowSeconds * 1000);
  }

  /** Load a model into its own worker pool and wait until every worker is ready. */
  async loadModel(options: LoadModelOptions): Promise<ModelHandle> {
    if (this.state !== 'running') throw new ShuttingDownError('the engine is stopping');
    if (!MODEL_NAME_PATTERN.test(options.name)) {
      throw new ConfigError(`model name "${options.name}" must be 1-64 letters, digits, ".", "_" or "-"`);
    }
    if (this.models.has(options.name)) throw new ConfigError(`a model named "${options.name}" is already loaded`);
    const config = parseServingConfig(options.config, `model "${options.name}"`);
    const bytes = typeof options.source === 'string' ? await readModelFile(options.source) : options.source;
    const source = {
      name: options.name,
      version: options.version ?? 1,
      bytes,
      expectedSha256: options.expectedSha256,
      evidence: options.evidence,
    };
    const runner = new ModelRunner(source, config, this.events, this.windowSeconds);
    this.models.set(options.name, runner);
    try {
      await runner.start();
    } catch (error) {
      this.models.delete(options.name);
      throw error;
    }
    return this.model(options.name);
  }

  model(name: string): ModelHandle {
    const runner = this.runner(name);
    return {
      name,
      // Getters: after a swap they describe the version then active.
      get plan() {
        return runner.plan;
      },
      get signature() {
        return runner.signature;
      },
      get version() {
        return runner.version;
      },
      infer: (inputs, options) => runner.infer(inputs, options),
    };
  }

  infer(model: string, inputs: unknown, options?: InferOptions): Promise<InferResult> {
    const runner = this.models.get(model);
    if (!runner || runner.state === 'starting') return Promise.reject(new UnknownModelError(model));
    return runner.infer(inputs, options);
  }

  /**
   * Stop serving a model: new requests are refused at once (UnknownModelError), accepted
   * ones get up to `drainTimeoutMs` to finish (the rest are rejected with ShuttingDownError),
   * then its workers stop and its name is free again.
   */
  async unloadModel(name: string, drainTimeoutMs = 5000): Promise<void> {
    const runner = this.runner(name);
    checkedInt('drainTimeoutMs', drainTimeoutMs, 0, 3_600_000);
    this.models.delete(name);
    await runner.stop(drainTimeoutMs);
    this.events.emit('info', 'model-unloaded', `model "${name}" unloaded`, { model: name });
  }

  /** Models that are serving (a model still starting is not listed). */
  modelNames(): string[] {
    return [...this.models.values()].filter((r) => r.state !== 'starting').map((r) => r.name);
  }

  pause(model: string): void {
    this.runner(model).pause();
  }

  resume(model: string): void {
    this.runner(model).resume();
  }

  drain(model: string): Promise<void> {
    return this.runner(model).drain();
  }

  reconfigureQueue(model: string, queue: Partial<QueueConfig>): void {
    const runner = this.runner(model);
    const merged = parseServingConfig({ queue: { ...runner.settings.queue, ...queue } }).queue;
    runner.reconfigureQueue(merged);
  }

  reconfigureBatching(model: string, batching: Partial<BatchingConfig>): void {
    const runner = this.runner(model);
    const merged = parseServingConfig({ batching: { ...runner.settings.batching, ...batching } }).batching;
    runner.reconfigureBatching(merged);
  }

  resizeWorkers(model: string, count: number): void {
    checkedInt('worker count', count, RANGES.workerCount.min, RANGES.workerCount.max);
    this.runner(model).resizeWorkers(count);
  }

  /**
   * Hot-swap a loaded model to another version (see ModelRunner.swap): loaded beside the
   * active one, then activated between batches; nothing accepted is dropped, and any
   * failure leaves the active version serving. `keepWarm` versions (the active one
   * included) stay loaded for instant rollback.
   */
  swapModel(model: string, options: SwapOptions, keepWarm = 1): Promise<SwapRecord> {
    const runner = this.models.get(model);
    if (!runner) return Promise.reject(new UnknownModelError(model));
    try {
      checkedInt('keepWarm', keepWarm, 1, 64);
    } catch (error) {
      return Promise.reject(asError(error));
    }
    return runner.swap(options, keepWarm);
  }

  /** The versions of a model loaded now, and whether each is active, warm or draining. */
  modelVersions(model: string): VersionSnapshot[] {
    return this.runner(model).versions();
  }

  /** A model's cumulative statistics per version since the engine started (Triton's statistics extension). */
  statistics(model: string): VersionStatistics[] {
    return this.runner(model).statistics();
  }

  /** The serving settings in force for a model (its config file's, as changed at run time since). */
  settings(model: string): Pick<ModelServingConfig, 'batching' | 'queue' | 'workers'> {
    const { batching, queue, workers } = this.runner(model).settings;
    return { batching, queue, workers };
  }

  /** The latest swaps of a model, oldest first. */
  swapHistory(model: string): SwapRecord[] {
    return this.runner(model).swaps();
  }

  /** Chaos testing: make one of a model's workers crash or hang. */
  injectFault(model: string, workerIndex: number, kind: FaultKind): string {
    return this.runner(model).injectFault(workerIndex, kind);
  }

  onEvent(listener: EventListener): () => void {
    return this.events.subscribe(listener);
  }

  snapshot(recentEvents = 50): EngineSnapshot {
    const runners = [...this.models.values()].filter((r) => r.state !== 'starting');
    const arenas = runners.flatMap((r) => r.arenaStats());
    const totals = { capacityBytes: 0, usedBytes: 0, highWaterBytes: 0 };
    for (const a of arenas) {
      if (a.kind === 'transfer') continue; // the totals are shared memory (rows and byte slots); a 0-byte lane holds none
      totals.capacityBytes += a.capacityBytes;
      totals.usedBytes += a.usedBytes;
      totals.highWaterBytes += a.highWaterBytes;
    }
    const events: EngineEvent[] = this.events.since(0);
    return {
      timeMs: Date.now(),
      uptimeMs: performance.now() - this.startedAt,
      state: this.state,
      windowSeconds: this.windowSeconds,
      eventLoopDelayMs: this.loopDelay.summary(),
      models: runners.map((r) => r.snapshotModel()),
      queues: runners.map((r) => r.snapshotQueue()),
      workers: runners.flatMap((r) => r.workerStats()),
      arenas,
      arenaTotals: totals,
      recentEvents: events.slice(Math.max(0, events.length - recentEvents)),
    };
  }

  /**
   * Stop everything. Accepted requests get up to `drainTimeoutMs` to finish; the rest are
   * rejected with ShuttingDownError. Resolves once every worker thread has exited.
   */
  async stop(drainTimeoutMs = 5000): Promise<void> {
    if (this.state === 'stopped' || this.state === 'stopping') return;
    checkedInt('drainTimeoutMs', drainTimeoutMs, 0, 3_600_000);
    this.state = 'stopping';
    this.events.emit('info', 'engine-stopping', `engine stopping (drain up to ${drainTimeoutMs} ms)`);
    await Promise.all([...this.models.values()].map((r) => r.stop(drainTimeoutMs)));
    this.loopDelay.close();
    this.state = 'stopped';
    this.events.emit('info', 'engine-stopped', 'engine stopped');
  }

  private runner(name: string): ModelRunner {
    const runner = this.models.get(name);
    if (!runner || runner.state === 'starting') throw new UnknownModelError(name);
    return runner;
  }
}

/** An integer option in range, or a ConfigError naming it. */
function checkedInt(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max)
    throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got ${value}`);
  return value;
}

async function readModelFile(path: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readFile(path));
  } catch (error) {
    throw new ModelLoadError(`cannot read model file ${path}: ${(error as Error).message}`, { cause: error });
  }
}
