/**
 * Serves one model: validation and admission (rate limits, the bounded queue), the
 * dynamic batcher that assembles batches in the workers' shared arenas, scattering
 * outputs back, deadlines and aborts, and the model's statistics. Everything here runs
 * on the engine's thread and is the single writer of its counters.
 */
import { createHash } from 'node:crypto';
import { slotViews, type ArenaPool } from './arena.js';
import { BoundedQueue } from './bounded-queue.js';
import type { ModelServingConfig, QueueConfig, BatchingConfig } from './config.js';
import { decideBatch, RecentPeak } from './batch-policy.js';
import { DeadlineScheduler, type Deadline } from './deadlines.js';
import type { TensorData } from './dtypes.js';
import {
  AbortedError,
  asError,
  ChecksumMismatchError,
  ConfigError,
  InferenceFailedError,
  QueueDrainingError,
  QueueTimeoutError,
  RateLimitedError,
  RequestTimeoutError,
  ShuttingDownError,
  WorkerCrashedError,
  InvalidInputError,
} from './errors.js';
import type { EventLog } from './events.js';
import { EnqueueRateLimiter } from './rate-limit.js';
import { checkInferOptions, InferRequest, type InferOptions, type InferResult, type OutputTensor } from './request.js';
import type { ModelSnapshot, QueueSnapshot } from './snapshot.js';
import { LatencyHistogram } from './stats/histogram.js';
import { WindowedCounter } from './stats/window.js';
import { validateInputs } from './validate.js';
import { settlesWithin } from '../util/timeout.js';
import type { ModelSignature, ServingPlan } from './signature.js';
import { WorkerPool, type InflightBatch, type ServedVersion, type WorkerHandle } from './worker-pool.js';
import type { FaultKind } from './worker/protocol.js';

interface Batch extends InflightBatch {
  readonly requests: InferRequest[];
}

export type SwapKind = 'load' | 'activate' | 'rollback' | 'follow-latest' | 'reload';

/** One change of the active version, for the swap history. */
export interface SwapRecord {
  readonly from: number | null;
  readonly to: number;
  readonly kind: SwapKind;
  readonly startedAtMs: number;
  /** Session creation on the slowest worker (0 when the version was already warm). */
  readonly loadMs: number;
  /** From the call to the moment new requests go to the new version. */
  readonly totalMs: number;
  readonly ok: boolean;
  readonly error: string | null;
}

export interface SwapOptions {
  readonly version: number;
  readonly bytes: Uint8Array;
  /** The sha256 the updater validated; the bytes are re-hashed and must match. */
  readonly expectedSha256?: string;
  /** Accept a signature that differs from the active one. */
  readonly force?: boolean;
  readonly kind?: SwapKind;
}

export interface VersionSnapshot {
  version: number;
  state: 'active' | 'warm' | 'draining';
  sha256: string;
  sizeBytes: number;
  loadedAtMs: number;
  loadMs: number;
  /** Requests accepted for this version and not yet answered. */
  pendingRequests: number;
}

const SWAP_HISTORY = 100;

interface SlotViews {
  readonly inputs: TensorData[][];
  readonly outputs: TensorData[][];
}

export type RunnerState = 'starting' | 'running' | 'stopping' | 'stopped';

export interface ModelSource {
  readonly name: string;
  readonly version: number;
  readonly bytes: Uint8Array;
  /** When given, the bytes must hash to it (they were validated elsewhere). */
  readonly expectedSha256?: string;
}

const MAX_ATTEMPTS = 2; // the first run and one retry after a worker loss

export class ModelRunner {
  readonly queue: BoundedQueue<InferRequest>;
  private readonly pool: WorkerPool<Batch>;
  private readonly deadlines = new DeadlineScheduler();
  private readonly limiter: EnqueueRateLimiter;
  private readonly views = new WeakMap<ArenaPool, SlotViews>();
  private stateValue: RunnerState = 'starting';
  private paused = false;
  private drainWaiters: (() => void)[] = [];
  private draining = false;
  private flushTimer: NodeJS.Timeout | undefined;
  private flushImmediate: NodeJS.Immediate | undefined;
  private flushAt = Infinity;
  /**
   * Rows the queue must hold before a new arrival can change the batcher's decision; until
   * then an arrival only queues (Infinity: nothing can change until a worker has room or the
   * queue is resumed, and those call `pump` themselves).
   */
  private waitingForRows = 0;
  private queueSweepTimer: NodeJS.Timeout | undefined;
  private nextBatchId = 1;
  private runningRequests = 0;
  private runningRows = 0;
  private activeServed: ServedVersion | undefined;
  /** Requests accepted and not yet settled, per version: a version is released only at zero. */
  private readonly versionRefs = new Map<number, number>();
  /** Versions by how recently they were active, most recent first (for keeping warm). */
  private activationOrder: number[] = [];
  private readonly swapHistory: SwapRecord[] = [];
  private swapChain: Promise<unknown> = Promise.resolve();
  private readonly settledHook = (request: InferRequest) => this.onRequestSettled(request);
  /** Queued plus running rows, at their recent peak: what batches are sized for. */
  private readonly outstanding = new RecentPeak();

  private readonly counts = {
    accepted: 0,
    succeeded: 0,
    failed: 0,
    timedOut: 0,
    queueTimedOut: 0,
    aborted: 0,
    retried: 0,
    rejectedInvalid: 0,
    rejectedRateLimited: 0,
    rejectedDraining: 0,
    rejectedShuttingDown: 0,
    batches: 0,
    batchRows: 0,
  };
  private readonly batchSizeCounts: number[];
  private readonly requestRate: WindowedCounter;
  private readonly rowRate: WindowedCounter;
  private readonly batchRate: WindowedCounter;
  private readonly enqueueRate: WindowedCounter;
  private readonly queueLatency: LatencyHistogram;
  private readonly computeLatency: LatencyHistogram;
  private readonly totalLatency: LatencyHistogram;

  constructor(
    private readonly source: ModelSource,
    private config: ModelServingConfig,
    private readonly events: EventLog,
    windowSeconds: number,
  ) {
    this.queue = new BoundedQueue(source.name, config.queue);
    this.limiter = new EnqueueRateLimiter(source.name, config.rateLimit);
    this.pool = new WorkerPool<Batch>(
      source.name,
      config.workers,
      config.batching.maxBatchSize,
      {
        onDone: (batch, computeMs) => this.onBatchDone(batch, computeMs),
        onRunFailed: (batch, message) => this.onBatchFailed(batch, message),
        onWorkerLost: (workerId, batches, reason) => this.onWorkerLost(workerId, batches, reason),
        onCapacity: () => this.pump(),
      },
      events,
      windowSeconds,
      config.memoryBudgetBytes,
    );
    this.batchSizeCounts = new Array<number>(Math.ceil(Math.log2(4096)) + 2).fill(0);
    this.requestRate = new WindowedCounter(windowSeconds);
    this.rowRate = new WindowedCounter(windowSeconds);
    this.batchRate = new WindowedCounter(windowSeconds);
    this.enqueueRate = new WindowedCounter(windowSeconds);
    this.queueLatency = new LatencyHistogram(windowSeconds);
    this.computeLatency = new LatencyHistogram(windowSeconds);
    this.totalLatency = new LatencyHistogram(windowSeconds);
  }

  get name(): string {
    return this.source.name;
  }

  get state(): RunnerState {
    return this.stateValue;
  }

  private get active(): ServedVersion {
    if (!this.activeServed) throw new Error(`model "${this.name}" has no active version before start()`);
    return this.activeServed;
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
    this.activeServed = await this.pool.start(this.source.version, this.source.bytes, sha256);
    this.activationOrder = [this.source.version];
    this.stateValue = 'running';
    const plan = this.plan;
    this.events.emit(
      'info',
      'model-loaded',
      `model "${this.name}" version ${this.version} serving (${plan.mode}, up to ${plan.maxRows} rows per batch, ${this.config.workers.count} workers)`,
      { model: this.name },
    );
  }

  infer(inputs: unknown, options: InferOptions = {}): Promise<InferResult> {
    if (this.stateValue !== 'running') {
      this.counts.rejectedShuttingDown++;
      return Promise.reject(new ShuttingDownError(`model "${this.name}" is ${this.stateValue}`));
    }
    if (options.signal?.aborted) return Promise.reject(new AbortedError('before_enqueue'));
    if (this.draining) {
      this.counts.rejectedDraining++;
      return Promise.reject(new QueueDrainingError(this.queue.name));
    }
    let validated;
    try {
      checkInferOptions(options);
      validated = validateInputs(this.active.plan, inputs, options.checkFinite ?? this.config.checkFinite);
      if (this.limiter.enabled) this.limiter.admit(options.clientId);
    } catch (error) {
      if (error instanceof InvalidInputError) this.counts.rejectedInvalid++;
      else if (error instanceof RateLimitedError) this.counts.rejectedRateLimited++;
      return Promise.reject(asError(error));
    }
    const acceptedAt = performance.now();
    return new Promise<InferResult>((resolve, reject) => {
      const version = this.active.version;
      const request = new InferRequest(validated.data, validated.rows, version, acceptedAt, options, resolve, reject);
      request.onSettled = this.settledHook;
      this.versionRefs.set(version, (this.versionRefs.get(version) ?? 0) + 1);
      let offered;
      try {
        offered = this.queue.offer(request);
      } catch (error) {
        request.reject(asError(error)); // QueueFullError
        return;
      }
      if (offered === undefined) this.accepted(request);
      else
        offered.then(
          () => this.accepted(request),
          (error: Error) => request.reject(error),
        );
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
    await this.idle();
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
    if (batching.maxBatchSize > this.plan.maxRows && this.plan.mode === 'dynamic') {
      // Arenas are sized for the batch size the model started with; a larger one needs a reload.
      throw new RangeError(
        `maxBatchSize ${batching.maxBatchSize} exceeds the arena's ${this.plan.maxRows} rows; reload the model to grow it`,
      );
    }
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
    await settlesWithin(this.idle(), drainTimeoutMs);
    for (const request of this.queue.drainAll()) this.rejectRequest(request, shuttingDown());
    this.cancelFlush();
    await this.pool.stop();
    for (const batch of this.pool.takeInflight()) {
      for (const request of batch.requests) this.rejectRequest(request, shuttingDown());
    }
    this.deadlines.clear();
    clearTimeout(this.queueSweepTimer);
    this.queueSweepTimer = undefined;
    this.stateValue = 'stopped';
    for (const resolve of this.drainWaiters.splice(0)) resolve();
  }

  /**
   * Make `options.version` the active version. Its sessions are created beside the old
   * ones, one worker at a time so the rest keep serving; new requests go to it from the
   * moment it is active, while requests accepted before finish on the version they were
   * validated for. Any failure leaves the old version serving. Swaps run one at a time.
   */
  swap(options: SwapOptions, keepWarm = 1): Promise<SwapRecord> {
    const run = this.swapChain.then(() => this.swapNow(options, keepWarm));
    this.swapChain = run.catch(() => undefined);
    return run;
  }

  /** Versions loaded now: the active one, warm ones kept for rollback, old ones finishing requests. */
  versions(): VersionSnapshot[] {
    const warm = new Set(this.activationOrder);
    return this.pool
      .versions()
      .sort((a, b) => b.version - a.version)
      .map((v) => ({
        version: v.version,
        state: v.version === this.active.version ? 'active' : warm.has(v.version) ? 'warm' : 'draining',
        sha256: v.sha256,
        sizeBytes: v.bytes.byteLength,
        loadedAtMs: v.loadedAtMs,
        loadMs: v.loadMs,
        pendingRequests: this.versionRefs.get(v.version) ?? 0,
      }));
  }

  swaps(): SwapRecord[] {
    return [...this.swapHistory];
  }

  private async swapNow(options: SwapOptions, keepWarm: number): Promise<SwapRecord> {
    const startedAtMs = Date.now();
    const started = performance.now();
    const from = this.active.version;
    const kind = options.kind ?? 'activate';
    const record = (ok: boolean, loadMs: number, error: string | null): SwapRecord => {
      const entry: SwapRecord = { from, to: options.version, kind, startedAtMs, loadMs, totalMs: performance.now() - started, ok, error };
      this.swapHistory.push(entry);
      if (this.swapHistory.length > SWAP_HISTORY) this.swapHistory.shift();
      return entry;
    };
    try {
      if (this.stateValue !== 'running') throw new ShuttingDownError(`model "${this.name}" is ${this.stateValue}`);
      const warm = this.pool.has(options.version);
      if (kind === 'reload' && options.version === from) {
        throw new ConfigError(
          `model "${this.name}": reload the active version by publishing it as a new version, or activate another first`,
        );
      }
      let served = warm ? this.pool.served(options.version) : undefined;
      // Reloading, or the same version number with a different file: the loaded copy is stale.
      if (served && (kind === 'reload' || (options.expectedSha256 !== undefined && served.sha256 !== options.expectedSha256))) {
        if ((this.versionRefs.get(options.version) ?? 0) > 0) {
          throw new ConfigError(
            `model "${this.name}" version ${options.version} is still answering requests; try again once it has drained`,
          );
        }
        this.pool.release(options.version);
        served = undefined;
      }
      if (!served) {
        const sha256 = sha256Of(options.bytes);
        if (options.expectedSha256 !== undefined && options.expectedSha256 !== sha256) {
          throw new ChecksumMismatchError(options.expectedSha256, sha256);
        }
        served = await this.pool.introduce(options.version, options.bytes, sha256, {
          compareWith: this.active.signature,
          force: options.force ?? false,
        });
      }
      this.activeServed = served;
      this.activationOrder = [options.version, ...this.activationOrder.filter((v) => v !== options.version)].slice(
        0,
        Math.max(1, keepWarm),
      );
      const entry = record(true, warm ? 0 : served.loadMs, null);
      this.events.emit(
        'info',
        'model-swapped',
        `model "${this.name}": version ${from} -> ${options.version} (${kind}, ${entry.totalMs.toFixed(1)} ms)`,
        {
          model: this.name,
        },
      );
      this.releaseUnused();
      this.pump();
      return entry;
    } catch (error) {
      const message = asError(error).message;
      record(false, 0, message);
      this.events.emit(
        'error',
        'swap-failed',
        `model "${this.name}": swap to version ${options.version} failed, version ${from} keeps serving: ${message}`,
        {
          model: this.name,
        },
      );
      throw error;
    }
  }

  /** Release versions that are neither active, kept warm, nor still owed answers. */
  private releaseUnused(): void {
    for (const served of this.pool.versions()) {
      const v = served.version;
      if (this.activationOrder.includes(v) || (this.versionRefs.get(v) ?? 0) > 0) continue;
      this.pool.release(v);
    }
  }

  private onRequestSettled(request: InferRequest): void {
    const left = (this.versionRefs.get(request.version) ?? 1) - 1;
    if (left > 0) {
      this.versionRefs.set(request.version, left);
      return;
    }
    this.versionRefs.delete(request.version);
    if (
      request.version !== this.activeServed?.version &&
      !this.activationOrder.includes(request.version) &&
      this.stateValue === 'running'
    ) {
      this.pool.release(request.version);
    }
  }

  snapshotModel(): ModelSnapshot {
    const plan = this.plan;
    const c = this.counts;
    const buckets: { upTo: number; count: number }[] = [];
    for (let i = 0; 2 ** i / 2 < plan.maxRows; i++) buckets.push({ upTo: Math.min(2 ** i, plan.maxRows), count: this.batchSizeCounts[i]! });
    return {
      name: this.name,
      version: this.version,
      sha256: this.active.sha256,
      sizeBytes: this.active.bytes.byteLength,
      loadedAtMs: this.active.loadedAtMs,
      signature: this.active.signature,
      versions: this.versions(),
      swaps: this.swapHistory.slice(-20),
      batching: {
        mode: plan.mode,
        maxBatchRows: plan.mode === 'dynamic' ? Math.min(plan.maxRows, this.config.batching.maxBatchSize) : plan.maxRows,
        maxQueueDelayUs: this.config.batching.maxQueueDelayUs,
        preferredBatchSizes: [...this.config.batching.preferredBatchSizes],
      },
      requests: {
        accepted: c.accepted,
        succeeded: c.succeeded,
        failed: c.failed,
        timedOut: c.timedOut + c.queueTimedOut,
        aborted: c.aborted,
        retried: c.retried,
        queued: this.queue.depth,
        running: this.runningRequests,
      },
      requestsPerSecond: this.requestRate.ratePerSecond(),
      rowsPerSecond: this.rowRate.ratePerSecond(),
      batches: c.batches,
      batchesPerSecond: this.batchRate.ratePerSecond(),
      batchSizeBuckets: buckets,
      meanBatchRows: c.batches === 0 ? 0 : c.batchRows / c.batches,
      latencyMs: { queue: this.queueLatency.window(), compute: this.computeLatency.window(), total: this.totalLatency.window() },
      lifetimeLatencyMs: {
        queue: this.queueLatency.lifetime(),
        compute: this.computeLatency.lifetime(),
        total: this.totalLatency.lifetime(),
      },
    };
  }

  snapshotQueue(): QueueSnapshot {
    const q = this.queue;
    const policy = q.policy;
    return {
      name: q.name,
      model: this.name,
      depth: q.depth,
      rows: q.rows,
      capacity: q.capacity,
      highWater: q.highWater,
      paused: this.paused,
      draining: this.draining,
      waitingForRoom: q.waiting,
      policy: {
        fullPolicy: policy.fullPolicy,
        fullWaitTimeoutMs: policy.fullWaitTimeoutMs,
        maxWaiters: policy.maxWaiters,
        queueTimeoutMs: policy.queueTimeoutMs,
      },
      rateLimit: {
        perQueue: this.config.rateLimit.perQueue ?? null,
        perClient: this.config.rateLimit.perClient ?? null,
        trackedClients: this.limiter.trackedClients,
      },
      enqueued: q.counters.enqueued,
      dequeued: q.counters.dequeued,
      rejected: {
        full: q.counters.rejectedFull,
        rateLimited: this.counts.rejectedRateLimited,
        invalid: this.counts.rejectedInvalid,
        draining: this.counts.rejectedDraining,
        shuttingDown: this.counts.rejectedShuttingDown,
      },
      timedOut: this.counts.queueTimedOut,
      aborted: this.counts.aborted,
      enqueuePerSecond: this.enqueueRate.ratePerSecond(),
      waitMs: this.queueLatency.window(),
    };
  }

  workerStats() {
    return this.pool.stats();
  }

  arenaStats() {
    return this.pool.arenaStats();
  }

  private idle(): Promise<void> {
    if (this.queue.depth === 0 && this.pool.inflightBatches === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private checkIdle(): void {
    if (this.drainWaiters.length > 0 && this.queue.depth === 0 && this.pool.inflightBatches === 0) {
      for (const resolve of this.drainWaiters.splice(0)) resolve();
    }
  }

  private accepted(request: InferRequest): void {
    this.counts.accepted++;
    this.enqueueRate.add(1, request.acceptedAt);
    const { timeoutMs, signal } = request.options;
    if (timeoutMs !== undefined) {
      request.cancelDeadline = this.cancelDeadline;
      request.deadline = this.deadlines.add(request.acceptedAt + timeoutMs, () => {
        request.deadline = undefined;
        if (request.settled) return;
        const stage = request.inQueue ? 'queued' : 'running';
        this.counts.timedOut++;
        this.rejectRequest(request, new RequestTimeoutError(timeoutMs, stage));
      });
    }
    if (this.config.queue.queueTimeoutMs > 0 && !this.queueSweepTimer) this.armQueueSweep();
    if (signal) {
      request.onAbort = () => {
        if (request.settled) return;
        this.counts.aborted++;
        this.rejectRequest(request, new AbortedError(request.inQueue ? 'queued' : 'running'));
      };
      signal.addEventListener('abort', request.onAbort, { once: true });
    }
    if (this.queue.rows >= this.waitingForRows) this.pump();
  }

  private readonly cancelDeadline = (deadline: Deadline) => this.deadlines.cancel(deadline);

  /**
   * The queue is FIFO and its timeout is the same for every request, so the oldest
   * request is always the first to expire: one timer on the head replaces a deadline
   * per request.
   */
  private armQueueSweep(): void {
    const head = this.queue.peek();
    const timeoutMs = this.config.queue.queueTimeoutMs;
    if (!head || timeoutMs === 0) return;
    const dueIn = head.acceptedAt + timeoutMs - performance.now();
    this.queueSweepTimer = setTimeout(
      () => {
        this.queueSweepTimer = undefined;
        const now = performance.now();
        for (let oldest = this.queue.peek(); oldest && oldest.acceptedAt + timeoutMs <= now; oldest = this.queue.peek()) {
          this.counts.queueTimedOut++;
          this.rejectRequest(oldest, new QueueTimeoutError(this.queue.name, timeoutMs));
        }
        this.armQueueSweep();
      },
      Math.max(0, Math.ceil(dueIn)),
    );
  }

  /** Reject, taking the request out of the queue or out of the running count. */
  private rejectRequest(request: InferRequest, error: Error): void {
    if (request.inQueue) this.queue.remove(request);
    if (request.running) {
      request.running = false;
      this.runningRequests--;
      this.runningRows -= request.rows;
    }
    request.reject(error);
    this.checkIdle();
  }

  /** Form and dispatch batches while workers have room and the batching policy allows. */
  private pump(): void {
    this.waitingForRows = Infinity;
    if (this.paused || this.stateValue === 'stopped') return;
    for (let head = this.queue.peek(); head; head = this.queue.peek()) {
      // A batch runs one version: that of the oldest request (requests keep the version they were validated for).
      const worker = this.pool.pick(head.version);
      if (!worker) return;
      const plan = this.pool.served(head.version).plan;
      const rows = this.nextBatchRows(plan, worker.inflight.size === 0);
      if (rows === undefined) return; // it set waitingForRows
      this.dispatch(worker, head.version, plan, rows);
    }
    this.waitingForRows = 0;
  }

  /** Rows for the next batch, or undefined to wait for more (a flush is scheduled if one helps). */
  private nextBatchRows(plan: ServingPlan, workerIdle: boolean): number | undefined {
    if (plan.mode === 'unbatched') return plan.maxRows;
    const batching = this.config.batching;
    const queuedRows = this.queue.rows;
    const now = performance.now();
    const decision = decideBatch({
      queuedRows,
      outstandingRows: this.outstanding.observe(queuedRows + this.runningRows, now),
      pipelineSlots: this.pool.slots,
      maxRows: plan.maxRows,
      maxBatchSize: batching.maxBatchSize,
      preferredBatchSizes: batching.preferredBatchSizes,
      workerIdle,
      oldestWaitedUs: (now - this.queue.peek()!.acceptedAt) * 1000,
      maxQueueDelayUs: batching.maxQueueDelayUs,
      flushAll: this.draining || this.stateValue === 'stopping',
    });
    if (decision.kind === 'dispatch') return decision.rows;
    this.waitingForRows = decision.untilRows;
    if (decision.flushInUs !== null) this.scheduleFlush(decision.flushInUs);
    return undefined;
  }

  private dispatch(worker: WorkerHandle<Batch>, version: number, plan: ServingPlan, targetRows: number): void {
    const arena = this.pool.arenaFor(worker, version);
    const slot = arena.acquire()!;
    const requests: InferRequest[] = [];
    let rows = 0;
    for (let next = this.queue.peek(); next; next = this.queue.peek()) {
      if (next.version !== version || (requests.length > 0 && rows + next.rows > targetRows)) break;
      this.queue.shift();
      requests.push(next);
      rows += next.rows;
    }
    const views = this.slotViews(arena, plan).inputs[slot]!;
    const now = performance.now();
    for (let i = 0; i < views.length; i++) {
      const view = views[i] as Float32Array;
      let offset = 0;
      for (const request of requests) {
        const data = request.data[i] as Float32Array;
        view.set(data, offset);
        offset += data.length;
      }
    }
    arena.setUsed(slot, rows);
    for (const request of requests) {
      request.running = true;
      request.attempts++;
      request.dispatchedAt = now;
      this.queueLatency.record(now - request.acceptedAt, 1, now);
    }
    this.runningRequests += requests.length;
    this.runningRows += rows;
    this.pool.run(worker, { id: this.nextBatchId++, version, slot, rows, dispatchedAt: now, requests, arena });
  }

  private onBatchDone(batch: Batch, computeMs: number): void {
    const now = performance.now();
    // These callers are about to be answered and, in a closed loop, to send again: the
    // batch they come back to is sized with them counted.
    this.outstanding.observe(this.queue.rows + this.runningRows, now);
    const plan = this.pool.served(batch.version).plan;
    const outputs = this.slotViews(batch.arena, plan).outputs[batch.slot]!;
    let rowOffset = 0;
    let answered = 0;
    for (const request of batch.requests) {
      const firstRow = rowOffset;
      rowOffset += request.rows;
      if (request.settled) continue; // timed out or aborted while running
      request.running = false;
      this.runningRequests--;
      this.runningRows -= request.rows;
      const result: Record<string, OutputTensor> = {};
      for (let o = 0; o < plan.outputs.length; o++) {
        const spec = plan.outputs[o]!;
        const data = outputs[o]!.slice(firstRow * spec.rowElements, rowOffset * spec.rowElements);
        result[spec.name] = { data, dims: [request.rows, ...spec.rowShape], dtype: spec.dtype };
      }
      const totalMs = now - request.acceptedAt;
      this.totalLatency.record(totalMs, 1, now);
      answered++;
      request.fulfil({
        outputs: result,
        modelVersion: batch.version,
        batchRows: batch.rows,
        timings: { queueMs: request.dispatchedAt - request.acceptedAt, computeMs, totalMs },
      });
    }
    this.counts.succeeded += answered;
    this.counts.batches++;
    this.counts.batchRows += batch.rows;
    this.batchSizeCounts[Math.ceil(Math.log2(batch.rows))]!++;
    this.computeLatency.record(computeMs, batch.requests.length, now);
    this.requestRate.add(answered, now);
    this.rowRate.add(batch.rows, now);
    this.batchRate.add(1, now);
    this.checkIdle();
  }

  private onBatchFailed(batch: Batch, message: string): void {
    for (const request of batch.requests) {
      if (request.settled) continue;
      this.counts.failed++;
      this.rejectRequest(request, new InferenceFailedError(`model "${this.name}": ${message}`));
    }
    this.checkIdle();
  }

  private onWorkerLost(workerId: string, batches: Batch[], reason: string): void {
    const retry: InferRequest[] = [];
    for (const batch of batches) {
      for (const request of batch.requests) {
        if (request.settled) continue;
        request.running = false;
        this.runningRequests--;
        this.runningRows -= request.rows;
        if (request.attempts < MAX_ATTEMPTS && this.stateValue === 'running') retry.push(request);
        else {
          this.counts.failed++;
          request.reject(new WorkerCrashedError(workerId, reason));
        }
      }
    }
    // Back at the head of the queue, in their original order.
    for (let i = retry.length - 1; i >= 0; i--) {
      this.counts.retried++;
      this.queue.unshift(retry[i]!);
    }
    this.checkIdle();
    this.pump();
  }

  /** Typed views of an arena's slots, made once per arena (versions sharing an arena share a plan). */
  private slotViews(arena: ArenaPool, plan: ServingPlan): SlotViews {
    let views = this.views.get(arena);
    if (!views) {
      const inputs: TensorData[][] = [];
      const outputs: TensorData[][] = [];
      for (let slot = 0; slot < arena.layout.slots; slot++) {
        inputs.push(slotViews(arena.sab, arena.layout, slot, plan.inputs, arena.layout.inputs));
        outputs.push(slotViews(arena.sab, arena.layout, slot, plan.outputs, arena.layout.outputs));
      }
      views = { inputs, outputs };
      this.views.set(arena, views);
    }
    return views;
  }

  private scheduleFlush(afterUs: number): void {
    const at = performance.now() + afterUs / 1000;
    if (at >= this.flushAt) return;
    this.cancelFlush();
    this.flushAt = at;
    const fire = () => {
      this.flushTimer = undefined;
      this.flushImmediate = undefined;
      this.flushAt = Infinity;
      this.pump();
    };
    // Timers have millisecond resolution; below that, re-check on the next loop turn.
    if (afterUs >= 1000) this.flushTimer = setTimeout(fire, Math.floor(afterUs / 1000));
    else this.flushImmediate = setImmediate(fire);
  }

  private cancelFlush(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    if (this.flushImmediate) clearImmediate(this.flushImmediate);
    this.flushTimer = undefined;
    this.flushImmediate = undefined;
    this.flushAt = Infinity;
  }
}

function sha256Of(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
