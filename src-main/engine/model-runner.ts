/**
 * Serves one model: admits requests (admission.ts) into its bounded queue, lets the
 * batcher pump them to the pool's workers, and settles them (batch-outcomes.ts, or a
 * deadline, abort or queue timeout from request-watch.ts). Queue controls, swaps (through
 * model-versions.ts) and the model's snapshot are here too. Everything runs on the
 * engine's thread, the single writer of the model's counters.
 */
import { BoundedQueue } from './bounded-queue.js';
import type { ModelServingConfig, QueueConfig, BatchingConfig } from './config.js';
import { Batcher, type RunnerBatch } from './batcher.js';
import { systemClock, type EngineClock } from './clock.js';
import {
  asError,
  ChecksumMismatchError,
  InferenceFailedError,
  QueueDrainingError,
  ShuttingDownError,
  WorkerCrashedError,
} from './errors.js';
import { admit, enqueue } from './admission.js';
import type { EventLog } from './events.js';
import { EnqueueRateLimiter } from './rate-limit.js';
import { InferRequest, type InferOptions, type InferResult } from './request.js';
import { RequestWatch } from './request-watch.js';
import { RunningRequests } from './running-requests.js';
import { announceLoaded, batchingView, checkBatchingFits, queueFacts } from './runner-views.js';
import type { ModelSnapshot, QueueSnapshot, SwapRecord, VersionSnapshot } from './snapshot.js';
import { ModelStats } from './model-stats.js';
import { ModelVersions, sha256Of, type SwapOptions } from './model-versions.js';
import { answerFinished, takeBackLost } from './batch-outcomes.js';
import { IdleSignal } from './idle-signal.js';
import { settlesWithin } from '../util/timeout.js';
import type { ModelSignature, ProbeEvidence, ServingPlan } from './signature.js';
import { WorkerPool, type ServedVersion } from './worker-pool.js';
import type { VersionStatistics } from './version-statistics.js';
import type { WorkerTransport } from './worker-transport.js';
import type { FaultKind, WireTensor } from './worker/protocol.js';

export type { SwapKind, SwapRecord, VersionSnapshot } from './snapshot.js';
export type { SwapOptions } from './model-versions.js';

export type RunnerState = 'starting' | 'running' | 'stopping' | 'stopped';

export interface ModelSource {
  readonly name: string;
  readonly version: number;
  readonly bytes: Uint8Array;
  /** When given, the bytes must hash to it (they were validated elsewhere). */
  readonly expectedSha256?: string;
  /** The batching probe's evidence from validation, when it ran there. */
  readonly evidence?: ProbeEvidence | null;
}

/** What a runner talks to besides its model: unit tests pass scripted threads and their own clock. */
export interface RunnerSeams {
  readonly transport?: WorkerTransport;
  readonly clock?: EngineClock;
}

export class ModelRunner {
  private readonly queue: BoundedQueue<InferRequest>;
  private readonly pool: WorkerPool<RunnerBatch>;
  private readonly limiter: EnqueueRateLimiter;
  private stateValue: RunnerState = 'starting';
  private paused = false;
  private readonly idleSignal = new IdleSignal(() => this.queue.depth === 0 && this.pool.inflightBatches === 0);
  private draining = false;
  private readonly watch: RequestWatch;
  private readonly running = new RunningRequests();
  private readonly models: ModelVersions<RunnerBatch>;
  private readonly settledHook = (request: InferRequest, error: Error | undefined) => {
    this.stats.lifetime.settled(request, error, this.clock);
    this.models.settled(request.version, this.stateValue === 'running');
  };
  private readonly stats: ModelStats;
  /** What batch-outcomes.ts updates. */
  private readonly counters: { running: RunningRequests; stats: ModelStats };
  private readonly clock: EngineClock;
  private readonly batcher: Batcher;

  constructor(
    private readonly source: ModelSource,
    private config: ModelServingConfig,
    private readonly events: EventLog,
    windowSeconds: number,
    seams: RunnerSeams = {},
  ) {
    this.clock = seams.clock ?? systemClock;
    this.queue = new BoundedQueue(source.name, config.queue);
    this.limiter = new EnqueueRateLimiter(source.name, config.rateLimit);
    this.pool = new WorkerPool<RunnerBatch>({
      model: source.name,
      config: config.workers,
      maxBatchSize: config.batching.maxBatchSize,
      batchingMode: config.batching.mode,
      callbacks: {
        onDone: (batch, computeMs, outputs) => this.onBatchDone(batch, computeMs, outputs),
        onRunFailed: (batch, message) => this.onBatchFailed(batch, message),
        onWorkerLost: (workerId, batches, reason) => this.onWorkerLost(workerId, batches, reason),
        onCapacity: () => this.pump(),
      },
      events,
      windowSeconds,
      memoryBudgetBytes: config.memoryBudgetBytes,
      transport: seams.transport,
      clock: this.clock,
    });
    this.watch = new RequestWatch({
      queueName: source.name,
      head: () => this.queue.peek(),
      queueTimeoutMs: () => this.config.queue.queueTimeoutMs,
      end: (request, reason, error) => {
        this.stats.counts[reason]++; // each reason is the name of its counter
        this.rejectRequest(request, error);
      },
      now: () => this.clock.monotonicMs(),
    });
    this.stats = new ModelStats(windowSeconds);
    this.counters = { running: this.running, stats: this.stats };
    this.models = new ModelVersions(source.name, this.pool, events, () => this.pump());
    this.batcher = new Batcher({
      queue: this.queue,
      pool: this.pool,
      running: this.running,
      stats: this.stats,
      clock: this.clock,
      batching: () => this.config.batching,
      holding: () => this.paused || this.stateValue === 'stopped',
      flushingAll: () => this.draining || this.stateValue === 'stopping',
    });
  }

  private pump(): void {
    this.batcher.pump();
  }

  get name(): string {
    return this.source.name;
  }

  get state(): RunnerState {
    return this.stateValue;
  }

  private get active(): ServedVersion {
    return this.models.active;
  }

  get version(): number {
    return this.active.version;
  }

  get plan(): ServingPlan {
    return this.active.plan;
  }

  get signature(): ModelSignature {
    return this.active.signature;
  }

  async start(): Promise<void> {
    const sha256 = sha256Of(this.source.bytes);
    if (this.source.expectedSha256 !== undefined && this.source.expectedSha256 !== sha256) {
      throw new ChecksumMismatchError(this.source.expectedSha256, sha256);
    }
    this.models.table.activate(await this.pool.start(this.source.version, this.source.bytes, sha256, this.source.evidence ?? undefined), 1);
    this.stateValue = 'running';
    announceLoaded(this.events, this.name, this.version, this.plan, this.config.workers.count);
  }

  infer(inputs: unknown, options: InferOptions = {}): Promise<InferResult> {
    let validated;
    let served: ServedVersion;
    try {
      // A malformed version is admit's to refuse (and count); only a well-formed one picks the plan.
      const asked = (options as { version?: unknown } | null)?.version;
      served = this.models.servable(typeof asked === 'number' && Number.isInteger(asked) && asked >= 1 ? asked : undefined);
      validated = admit(inputs, options, {
        model: this.name,
        queueName: this.queue.name,
        runnerState: this.stateValue,
        draining: this.draining,
        plan: served.plan,
        checkFinite: this.config.checkFinite,
        limiter: this.limiter,
        counts: this.stats.counts,
      });
    } catch (error) {
      return Promise.reject(asError(error));
    }
    const acceptedAt = this.clock.monotonicMs();
    return new Promise<InferResult>((resolve, reject) => {
      const version = served.version;
      const request = new InferRequest(validated, version, acceptedAt, options, resolve, reject);
      request.onSettled = this.settledHook;
      this.models.table.ref(version);
      enqueue(this.queue, request, this.acceptedHook);
    });
  }

  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.events.emit('info', 'queue-paused', `queue "${this.queue.name}" paused`, { model: this.name });
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.events.emit('info', 'queue-resumed', `queue "${this.queue.name}" resumed`, { model: this.name });
    this.pump();
  }

  /** Refuse new requests, run what is queued (even if paused), resolve when nothing is left. */
  async drain(): Promise<void> {
    this.draining = true;
    const wasPaused = this.paused;
    this.paused = false;
    this.queue.failWaiters(new QueueDrainingError(this.queue.name));
    this.pump();
    await this.idleSignal.wait();
    this.paused = wasPaused;
    this.draining = false;
  }

  reconfigureQueue(queue: QueueConfig): void {
    this.config = { ...this.config, queue };
    this.queue.reconfigure(queue);
    this.events.emit(
      'info',
      'queue-reconfigured',
      `queue "${this.queue.name}" now capacity ${queue.capacity}, policy ${queue.fullPolicy}`,
      { model: this.name },
    );
  }

  reconfigureBatching(batching: BatchingConfig): void {
    checkBatchingFits(this.plan, batching);
    this.config = { ...this.config, batching };
    this.events.emit(
      'info',
      'queue-reconfigured',
      `batching for "${this.name}": max ${batching.maxBatchSize} rows, delay ${batching.maxQueueDelayUs} µs`,
      { model: this.name },
    );
    this.pump();
  }

  resizeWorkers(count: number): void {
    this.pool.resize(count); // refuses (and changes nothing) when the budget would not hold them
    this.config = { ...this.config, workers: { ...this.config.workers, count } };
  }

  injectFault(workerIndex: number, kind: FaultKind): string {
    return this.pool.injectFault(workerIndex, kind);
  }

  /** Stop: refuse new work, let accepted work finish for up to `drainTimeoutMs`, reject the rest, stop workers. */
  async stop(drainTimeoutMs: number): Promise<void> {
    if (this.stateValue === 'stopped') return;
    this.stateValue = 'stopping';
    const shuttingDown = () => new ShuttingDownError(`model "${this.name}" is shutting down`);
    this.queue.failWaiters(shuttingDown());
    this.paused = false;
    this.pump();
    await settlesWithin(this.idleSignal.wait(), drainTimeoutMs);
    for (const request of this.queue.drainAll()) this.rejectRequest(request, shuttingDown());
    this.batcher.cancel();
    await this.pool.stop();
    for (const batch of this.pool.takeInflight()) {
      for (const request of batch.requests) this.rejectRequest(request, shuttingDown());
    }
    this.watch.stop();
    this.stateValue = 'stopped';
    this.idleSignal.releaseAll();
  }

  /**
   * Make `options.version` the active version (see ModelVersions.swap): loaded beside the
   * active one, then activated between batches; any failure leaves the old one serving.
   */
  swap(options: SwapOptions, keepWarm = 1): Promise<SwapRecord> {
    return this.models.swap(options, keepWarm, this.stateValue);
  }

  /** Versions loaded now: the active one, warm ones kept for rollback, old ones finishing requests. */
  versions(): VersionSnapshot[] {
    return this.models.snapshot();
  }

  swaps(): SwapRecord[] {
    return this.models.history();
  }

  /** Cumulative counts and durations per version since the start, loaded versions included before their first request. */
  statistics(): VersionStatistics[] {
    return this.stats.lifetime.snapshot(this.versions().map((v) => v.version));
  }

  snapshotModel(): ModelSnapshot {
    const plan = this.plan;
    const active = this.active;
    return this.stats.model({
      plan,
      base: {
        name: this.name,
        version: active.version,
        sha256: active.sha256,
        sizeBytes: active.bytes.byteLength,
        loadedAtMs: active.loadedAtMs,
        signature: active.signature,
        versions: this.versions(),
        swaps: this.models.recentHistory(20),
      },
      batching: batchingView(plan, this.config.batching),
      queued: this.queue.depth,
      running: this.running.count,
    });
  }

  /** The serving settings in force (what reconfiguring starts from). */
  get settings(): ModelServingConfig {
    return this.config; // reconfigureQueue keeps config.queue and the queue's policy one
  }

  snapshotQueue(): QueueSnapshot {
    return this.stats.queue(
      queueFacts(this.queue, {
        model: this.name,
        paused: this.paused,
        draining: this.draining,
        rateLimit: this.config.rateLimit,
        trackedClients: this.limiter.trackedClients,
      }),
    );
  }

  workerStats() {
    return this.pool.stats();
  }

  arenaStats() {
    return this.pool.arenaStats();
  }

  private readonly acceptedHook = (request: InferRequest) => this.accepted(request);

  private accepted(request: InferRequest): void {
    this.stats.accepted(request.acceptedAt);
    this.watch.watch(request);
    this.batcher.arrived();
  }

  /** Reject, taking the request out of the queue or out of the running count. */
  private rejectRequest(request: InferRequest, error: Error): void {
    if (request.inQueue) this.queue.remove(request);
    this.running.stop(request);
    request.reject(error);
    this.idleSignal.check();
  }

  private onBatchDone(batch: RunnerBatch, computeMs: number, outputs: WireTensor[] | undefined): void {
    const now = this.clock.monotonicMs();
    this.batcher.noteAnswering(now);
    const plan = this.pool.served(batch.version).plan;
    const answered = answerFinished(batch, plan, outputs, (p) => this.batcher.outputViews(batch, p), computeMs, now, this.counters);
    if (typeof answered === 'string') this.onBatchFailed(batch, answered);
    else {
      const phases = { inputMs: batch.inputMs, inferMs: computeMs, outputMs: this.clock.monotonicMs() - now };
      this.stats.lifetime.batchDone(batch.version, batch.rows, answered, phases);
    }
    this.idleSignal.check();
  }

  private onBatchFailed(batch: RunnerBatch, message: string): void {
    for (const request of batch.requests) {
      if (request.settled) continue;
      this.stats.counts.failed++;
      this.rejectRequest(request, new InferenceFailedError(`model "${this.name}": ${message}`));
    }
    this.idleSignal.check();
  }

  private onWorkerLost(workerId: string, batches: RunnerBatch[], reason: string): void {
    const retry = takeBackLost(batches, this.stateValue === 'running', () => new WorkerCrashedError(workerId, reason), this.counters);
    // Back at the head of the queue, in their original order.
    for (let i = retry.length - 1; i >= 0; i--) {
      this.stats.counts.retried++;
      this.queue.unshift(retry[i]!);
    }
    this.idleSignal.check();
    this.pump();
  }
}
