/**
 * Serves one model: validation and admission (rate limits, the bounded queue), the
 * dynamic batcher that assembles batches in the workers' shared arenas, scattering
 * outputs back, deadlines and aborts, and the model's statistics. Everything here runs
 * on the engine's thread and is the single writer of its counters.
 */
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
import { checkInferOptions, InferRequest, type InferOptions, type InferResult } from './request.js';
import type { ModelSnapshot, QueueSnapshot, SwapRecord, VersionSnapshot } from './snapshot.js';
import { ModelStats } from './model-stats.js';
import { FlushTimer } from './flush-timer.js';
import { QueueSweep } from './queue-sweep.js';
import { ModelVersions, sha256Of, type SwapOptions } from './model-versions.js';
import { copyInputs, gatherBatch, scatterOutputs } from './batch-assembly.js';
import { validateInputs } from './validate.js';
import { settlesWithin } from '../util/timeout.js';
import type { ModelSignature, ServingPlan } from './signature.js';
import { WorkerPool, type InflightBatch, type ServedVersion, type WorkerHandle } from './worker-pool.js';
import type { FaultKind } from './worker/protocol.js';

interface Batch extends InflightBatch {
  readonly requests: InferRequest[];
}

export type { SwapKind, SwapRecord, VersionSnapshot } from './snapshot.js';

export type { SwapOptions } from './model-versions.js';

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
  private readonly flush = new FlushTimer(() => this.pump());
  /**
   * Rows the queue must hold before a new arrival can change the batcher's decision; until
   * then an arrival only queues (Infinity: nothing can change until a worker has room or the
   * queue is resumed, and those call `pump` themselves).
   */
  private waitingForRows = 0;
  private readonly queueSweep = new QueueSweep<InferRequest>(
    () => this.queue.peek(),
    () => this.config.queue.queueTimeoutMs,
    (request, timeoutMs) => {
      this.stats.counts.queueTimedOut++;
      this.rejectRequest(request, new QueueTimeoutError(this.queue.name, timeoutMs));
    },
  );
  private nextBatchId = 1;
  private runningRequests = 0;
  private runningRows = 0;
  private readonly models: ModelVersions<Batch>;
  private readonly settledHook = (request: InferRequest) => this.models.settled(request.version, this.stateValue === 'running');
  /** Queued plus running rows, at their recent peak: what batches are sized for. */
  private readonly outstanding = new RecentPeak();
  private readonly stats: ModelStats;

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
    this.stats = new ModelStats(windowSeconds);
    this.models = new ModelVersions(source.name, this.pool, events, () => this.pump());
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
    this.models.table.activate(await this.pool.start(this.source.version, this.source.bytes, sha256), 1);
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
      this.stats.counts.rejectedShuttingDown++;
      return Promise.reject(new ShuttingDownError(`model "${this.name}" is ${this.stateValue}`));
    }
    if (options.signal?.aborted) return Promise.reject(new AbortedError('before_enqueue'));
    if (this.draining) {
      this.stats.counts.rejectedDraining++;
      return Promise.reject(new QueueDrainingError(this.queue.name));
    }
    let validated;
    try {
      checkInferOptions(options);
      validated = validateInputs(this.active.plan, inputs, options.checkFinite ?? this.config.checkFinite);
      if (this.limiter.enabled) this.limiter.admit(options.clientId);
    } catch (error) {
      if (error instanceof InvalidInputError) this.stats.counts.rejectedInvalid++;
      else if (error instanceof RateLimitedError) this.stats.counts.rejectedRateLimited++;
      return Promise.reject(asError(error));
    }
    const acceptedAt = performance.now();
    return new Promise<InferResult>((resolve, reject) => {
      const version = this.active.version;
      const request = new InferRequest(validated.data, validated.rows, version, acceptedAt, options, resolve, reject);
      request.onSettled = this.settledHook;
      this.models.table.ref(version);
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
    this.flush.cancel();
    await this.pool.stop();
    for (const batch of this.pool.takeInflight()) {
      for (const request of batch.requests) this.rejectRequest(request, shuttingDown());
    }
    this.deadlines.clear();
    this.queueSweep.stop();
    this.stateValue = 'stopped';
    for (const resolve of this.drainWaiters.splice(0)) resolve();
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
      batching: this.batchingView(),
      queued: this.queue.depth,
      running: this.runningRequests,
    });
  }

  /** The batching settings in force, as the snapshot shows them (and as reconfiguring starts from). */
  batchingView(): ModelSnapshot['batching'] {
    const plan = this.plan;
    return {
      mode: plan.mode,
      maxBatchRows: plan.mode === 'dynamic' ? Math.min(plan.maxRows, this.config.batching.maxBatchSize) : plan.maxRows,
      maxQueueDelayUs: this.config.batching.maxQueueDelayUs,
      preferredBatchSizes: [...this.config.batching.preferredBatchSizes],
    };
  }

  /** The queue settings in force (what reconfiguring starts from). */
  get queuePolicy(): QueueConfig {
    return this.queue.policy;
  }

  snapshotQueue(): QueueSnapshot {
    const q = this.queue;
    const policy = q.policy;
    return this.stats.queue({
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
      rejectedFull: q.counters.rejectedFull,
    });
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
    this.stats.accepted(request.acceptedAt);
    const { timeoutMs, signal } = request.options;
    if (timeoutMs !== undefined) {
      request.cancelDeadline = this.cancelDeadline;
      request.deadline = this.deadlines.add(request.acceptedAt + timeoutMs, () => {
        request.deadline = undefined;
        if (request.settled) return;
        const stage = request.inQueue ? 'queued' : 'running';
        this.stats.counts.timedOut++;
        this.rejectRequest(request, new RequestTimeoutError(timeoutMs, stage));
      });
    }
    this.queueSweep.arm();
    if (signal) {
      request.onAbort = () => {
        if (request.settled) return;
        this.stats.counts.aborted++;
        this.rejectRequest(request, new AbortedError(request.inQueue ? 'queued' : 'running'));
      };
      signal.addEventListener('abort', request.onAbort, { once: true });
    }
    if (this.queue.rows >= this.waitingForRows) this.pump();
  }

  private readonly cancelDeadline = (deadline: Deadline) => this.deadlines.cancel(deadline);

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
    if (decision.flushInUs !== null) this.flush.schedule(decision.flushInUs);
    return undefined;
  }

  private dispatch(worker: WorkerHandle<Batch>, version: number, plan: ServingPlan, targetRows: number): void {
    const arena = this.pool.arenaFor(worker, version);
    const slot = arena.acquire()!;
    const { requests, rows } = gatherBatch(this.queue, version, targetRows);
    copyInputs(this.slotViews(arena, plan).inputs[slot]!, requests);
    arena.setUsed(slot, rows);
    const now = performance.now();
    for (const request of requests) {
      request.running = true;
      request.attempts++;
      request.dispatchedAt = now;
      this.stats.dispatched(now - request.acceptedAt, now);
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
    let answered = 0;
    scatterOutputs(this.slotViews(batch.arena, plan).outputs[batch.slot]!, plan.outputs, batch.requests, (request, outputs) => {
      request.running = false;
      this.runningRequests--;
      this.runningRows -= request.rows;
      const totalMs = now - request.acceptedAt;
      this.stats.answered(totalMs, now);
      answered++;
      request.fulfil({
        outputs,
        modelVersion: batch.version,
        batchRows: batch.rows,
        timings: { queueMs: request.dispatchedAt - request.acceptedAt, computeMs, totalMs },
      });
    });
    this.stats.batchDone(batch.rows, batch.requests.length, answered, computeMs, now);
    this.checkIdle();
  }

  private onBatchFailed(batch: Batch, message: string): void {
    for (const request of batch.requests) {
      if (request.settled) continue;
      this.stats.counts.failed++;
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
          this.stats.counts.failed++;
          request.reject(new WorkerCrashedError(workerId, reason));
        }
      }
    }
    // Back at the head of the queue, in their original order.
    for (let i = retry.length - 1; i >= 0; i--) {
      this.stats.counts.retried++;
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
}
