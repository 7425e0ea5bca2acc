/**
 * The inference workers of one model: spawning, the ready handshake, dispatch of
 * batches, heartbeats, and the watchdog that detects a dead or hung worker, hands its
 * in-flight batches back to the runner and restarts it with capped exponential backoff.
 *
 * Each worker owns an arena (a SharedArrayBuffer cut into `maxInflightBatches` slots)
 * that survives its restarts, so resizing the pool never reshapes anyone else's memory.
 */
import type { Worker } from 'node:worker_threads';
import { ArenaPool, planArena, type ArenaStats } from './arena.js';
import type { WorkerConfig } from './config.js';
import { ModelLoadError, StartupTimeoutError, UnsupportedModelError, type EngineError } from './errors.js';
import type { EventLog } from './events.js';
import { planServing, signatureFromMetadata, signaturesCompatible, type ModelSignature, type ServingPlan } from './signature.js';
import { SecondRing } from './stats/window.js';
import { STATUS_FIELDS, Status, WorkerPhase, type FaultKind, type FromWorker, type ToWorker, type WorkerInit } from './worker/protocol.js';
import { spawnModuleWorker } from './worker/spawn.js';

/** How long a worker may take to release its sessions and exit before it is terminated. */
const SHUTDOWN_GRACE_MS = 2000;

export type WorkerState = 'starting' | 'ready' | 'degraded' | 'dead' | 'retiring' | 'stopped';

export interface InflightBatch {
  readonly id: number;
  readonly version: number;
  readonly slot: number;
  readonly rows: number;
  readonly dispatchedAt: number;
}

export interface WorkerStats {
  id: string;
  model: string;
  state: WorkerState;
  threadId: number | null;
  incarnation: number;
  restarts: number;
  inflightBatches: number;
  batches: number;
  rows: number;
  busyMs: number;
  /** Share of wall time spent computing over the stats window, 0..1. */
  busyFraction: number;
  heartbeatAgeMs: number | null;
  uptimeMs: number;
  lastError: string | null;
}

export interface PoolCallbacks<B extends InflightBatch> {
  onDone(batch: B, computeMs: number): void;
  onRunFailed(batch: B, message: string): void;
  /** A worker died or hung; these batches never finished. */
  onWorkerLost(workerId: string, batches: B[], reason: string): void;
  /** A worker has become able to take batches. */
  onCapacity(): void;
}

export interface ModelVersionBytes {
  readonly version: number;
  readonly bytes: Uint8Array;
}

/** Cumulative busy time at the first health check of a second, for windowed busy %. */
interface BusySample {
  busyUs: number;
  atMs: number;
  set: boolean;
}

class WorkerHandle<B extends InflightBatch> {
  worker: Worker | undefined;
  state: WorkerState = 'starting';
  status = new BigInt64Array(new SharedArrayBuffer(STATUS_FIELDS * 8));
  readonly inflight = new Map<number, B>();
  incarnation = 0;
  restarts = 0;
  consecutiveFailures = 0;
  startedAt = performance.now();
  lastError: string | null = null;
  restartTimer: NodeJS.Timeout | undefined;
  arena: ArenaPool | undefined;
  // Counters of earlier incarnations, so totals survive restarts.
  base = { batches: 0, rows: 0, busyUs: 0 };
  readonly busySamples: SecondRing<BusySample>;
  ready: { resolve: () => void; reject: (e: EngineError) => void } | undefined;

  constructor(
    readonly id: string,
    windowSeconds: number,
  ) {
    this.busySamples = new SecondRing<BusySample>(
      windowSeconds,
      () => ({ busyUs: 0, atMs: 0, set: false }),
      (s) => (s.set = false),
    );
  }

  read(field: number): number {
    return Number(Atomics.load(this.status, field));
  }

  totals(): { batches: number; rows: number; busyUs: number } {
    return {
      batches: this.base.batches + this.read(Status.batches),
      rows: this.base.rows + this.read(Status.rows),
      busyUs: this.base.busyUs + this.read(Status.busyUs),
    };
  }

  post(message: ToWorker): void {
    if (!this.worker) throw new Error(`worker ${this.id} has no thread (state ${this.state})`);
    this.worker.postMessage(message);
  }
}

export class WorkerPool<B extends InflightBatch> {
  private readonly handles: WorkerHandle<B>[] = [];
  private nextWorkerNumber = 0;
  private active: ModelVersionBytes | undefined;
  private planValue: ServingPlan | undefined;
  private signatureValue: ModelSignature | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private stopping = false;

  constructor(
    private readonly model: string,
    private config: WorkerConfig,
    private readonly maxBatchSize: number,
    private readonly callbacks: PoolCallbacks<B>,
    private readonly events: EventLog,
    private readonly windowSeconds: number,
  ) {}

  get plan(): ServingPlan {
    if (!this.planValue) throw new Error(`model "${this.model}" has no serving plan before start()`);
    return this.planValue;
  }

  get signature(): ModelSignature | undefined {
    return this.signatureValue;
  }

  get version(): number | undefined {
    return this.active?.version;
  }

  get size(): number {
    return this.handles.filter((h) => h.state !== 'retiring' && h.state !== 'stopped').length;
  }

  /** Batches the ready workers can hold at once: the depth of the pipeline. */
  get slots(): number {
    let n = 0;
    for (const h of this.handles) if (h.state === 'ready' || h.state === 'degraded') n += this.config.maxInflightBatches;
    return n;
  }

  get inflightBatches(): number {
    let n = 0;
    for (const h of this.handles) n += h.inflight.size;
    return n;
  }

  /** Start `config.count` workers on this version and wait until each is ready. */
  async start(version: ModelVersionBytes): Promise<void> {
    this.active = version;
    const starting = Array.from({ length: this.config.count }, () => this.addWorker());
    const timeout = this.config.startupTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const waiting = this.handles.filter((h) => h.state === 'starting').map((h) => h.id);
        reject(new StartupTimeoutError(`model "${this.model}": workers ${waiting.join(', ')} not ready within ${timeout} ms`));
      }, timeout);
    });
    try {
      await Promise.race([Promise.all(starting), deadline]);
    } catch (error) {
      await this.stop();
      throw error;
    } finally {
      clearTimeout(timer);
    }
    this.watchdog = setInterval(() => this.checkHealth(), this.config.heartbeatIntervalMs);
  }

  /** A ready worker with a free slot, preferring the least loaded, healthy ones first. */
  pick(): WorkerHandle<B> | undefined {
    let best: WorkerHandle<B> | undefined;
    for (const h of this.handles) {
      if ((h.state !== 'ready' && h.state !== 'degraded') || !h.arena || h.arena.available === 0) continue;
      if (!best || (best.state === 'degraded' && h.state === 'ready') || (best.state === h.state && h.inflight.size < best.inflight.size)) {
        best = h;
      }
    }
    return best;
  }

  /** Hand a batch, already copied into `handle.arena` slot `batch.slot`, to the worker. */
  run(handle: WorkerHandle<B>, batch: B): void {
    handle.inflight.set(batch.id, batch);
    handle.post({ type: 'run', batchId: batch.id, version: batch.version, slot: batch.slot, rows: batch.rows });
  }

  injectFault(workerIndex: number, kind: FaultKind): string {
    const handle = this.handles.filter((h) => h.state !== 'stopped')[workerIndex];
    if (!handle) throw new RangeError(`model "${this.model}" has no worker ${workerIndex}`);
    handle.post({ type: 'fault', kind });
    return handle.id;
  }

  /** Grow or shrink the pool. Retiring workers finish their batches first. */
  resize(count: number): void {
    this.config = { ...this.config, count };
    const live = this.handles.filter((h) => h.state !== 'retiring' && h.state !== 'stopped');
    for (let i = live.length; i < count; i++) {
      this.addWorker().catch(() => {
        // A worker that fails to start is already logged and retried by the watchdog.
      });
    }
    for (const handle of live.slice(count).reverse()) this.retire(handle);
  }

  stats(): WorkerStats[] {
    const now = performance.now();
    return this.handles
      .filter((h) => h.state !== 'stopped')
      .map((h) => {
        const totals = h.totals();
        const heartbeat = h.read(Status.heartbeatMs);
        return {
          id: h.id,
          model: this.model,
          state: h.state,
          threadId: h.worker?.threadId ?? null,
          incarnation: h.incarnation,
          restarts: h.restarts,
          inflightBatches: h.inflight.size,
          batches: totals.batches,
          rows: totals.rows,
          busyMs: totals.busyUs / 1000,
          busyFraction: this.busyFraction(h, totals.busyUs, now),
          heartbeatAgeMs: heartbeat > 0 ? Math.max(0, Date.now() - heartbeat) : null,
          uptimeMs: now - h.startedAt,
          lastError: h.lastError,
        };
      });
  }

  arenaStats(): ArenaStats[] {
    return this.handles.filter((h) => h.arena && h.state !== 'stopped').map((h) => h.arena!.stats());
  }

  arenaOf(handle: WorkerHandle<B>): ArenaPool {
    return handle.arena!;
  }

  /** Stop every worker. Callers drain first; whatever is still in flight is reported lost. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = undefined;
    await Promise.all(this.handles.map((h) => this.stopWorker(h)));
  }

  /** Batches still recorded as in flight (after stop), removed from the pool. */
  takeInflight(): B[] {
    const batches: B[] = [];
    for (const handle of this.handles) {
      for (const batch of handle.inflight.values()) {
        handle.arena?.release(batch.slot);
        batches.push(batch);
      }
      handle.inflight.clear();
    }
    return batches;
  }

  private async stopWorker(handle: WorkerHandle<B>): Promise<void> {
    if (handle.restartTimer) clearTimeout(handle.restartTimer);
    handle.restartTimer = undefined;
    const worker = handle.worker;
    handle.state = 'stopped';
    handle.ready?.reject(new StartupTimeoutError(`worker ${handle.id} stopped before it was ready`));
    handle.ready = undefined;
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage({ type: 'shutdown' } satisfies ToWorker);
    let timer: NodeJS.Timeout | undefined;
    const graceful = await Promise.race([
      exited.then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), SHUTDOWN_GRACE_MS))),
    ]);
    clearTimeout(timer);
    if (!graceful) await worker.terminate();
    handle.worker = undefined;
  }

  private addWorker(): Promise<void> {
    const handle = new WorkerHandle<B>(`${this.model}#${this.nextWorkerNumber++}`, this.windowSeconds);
    this.handles.push(handle);
    return this.spawn(handle);
  }

  private retire(handle: WorkerHandle<B>): void {
    handle.state = 'retiring';
    this.events.emit('info', 'worker-retired', `worker ${handle.id} retiring (pool resized)`, { model: this.model, worker: handle.id });
    this.finishRetiring(handle);
  }

  private finishRetiring(handle: WorkerHandle<B>): void {
    if (handle.state !== 'retiring' || handle.inflight.size > 0) return;
    void this.stopWorker(handle).then(() => {
      const index = this.handles.indexOf(handle);
      if (index >= 0) this.handles.splice(index, 1);
    });
  }

  private spawn(handle: WorkerHandle<B>): Promise<void> {
    const version = this.active!;
    handle.incarnation++;
    handle.state = 'starting';
    handle.startedAt = performance.now();
    handle.status = new BigInt64Array(new SharedArrayBuffer(STATUS_FIELDS * 8));
    const init: WorkerInit = {
      workerId: handle.id,
      status: handle.status.buffer,
      heartbeatIntervalMs: this.config.heartbeatIntervalMs,
    };
    const worker = spawnModuleWorker(
      { callerUrl: import.meta.url, source: './worker/inference-worker.ts', built: 'inference-worker.js' },
      { workerData: init, name: handle.id },
    );
    handle.worker = worker;
    const ready = new Promise<void>((resolve, reject) => (handle.ready = { resolve, reject }));
    worker.on('message', (message: FromWorker) => this.onMessage(handle, worker, message));
    worker.on('error', (error) => {
      handle.lastError = error.message;
    });
    worker.on('exit', (code) => {
      if (handle.worker !== worker) return; // an older incarnation, already handled
      handle.worker = undefined;
      if (handle.state === 'stopped') return;
      this.lose(handle, handle.lastError ?? `thread exited with code ${code}`, 'worker-crashed');
    });
    worker.postMessage({
      type: 'load',
      version: version.version,
      model: version.bytes,
      intraOpThreads: this.config.intraOpThreads,
    } satisfies ToWorker);
    return ready;
  }

  private onMessage(handle: WorkerHandle<B>, worker: Worker, message: FromWorker): void {
    if (handle.worker !== worker) return;
    if (handle.state === 'stopped' && (message.type === 'loaded' || message.type === 'load-failed')) return;
    switch (message.type) {
      case 'loaded':
        this.onLoaded(handle, message);
        break;
      case 'load-failed': {
        const error = new ModelLoadError(`model "${this.model}" version ${message.version}: ${message.message}`);
        this.failStart(handle, error);
        break;
      }
      case 'done':
      case 'run-failed': {
        const batch = handle.inflight.get(message.batchId);
        if (!batch) return;
        handle.inflight.delete(message.batchId);
        // The callback reads outputs from the slot, so the slot is released after it.
        if (message.type === 'done') {
          handle.consecutiveFailures = 0;
          this.callbacks.onDone(batch, message.computeMs);
        } else {
          this.events.emit('error', 'batch-failed', `batch of ${batch.rows} rows failed on ${handle.id}: ${message.message}`, {
            model: this.model,
            worker: handle.id,
          });
          this.callbacks.onRunFailed(batch, message.message);
        }
        handle.arena!.release(batch.slot);
        if (handle.state === 'retiring') this.finishRetiring(handle);
        else this.callbacks.onCapacity();
        break;
      }
    }
  }

  private onLoaded(handle: WorkerHandle<B>, message: Extract<FromWorker, { type: 'loaded' }>): void {
    try {
      const signature = signatureFromMetadata(message.inputs, message.outputs);
      if (!this.signatureValue) {
        this.planValue = planServing(signature, this.maxBatchSize);
        this.signatureValue = signature;
      } else {
        const difference = signaturesCompatible(this.signatureValue, signature);
        if (difference) throw new UnsupportedModelError(`worker ${handle.id} sees a different signature: ${difference}`);
      }
    } catch (error) {
      this.failStart(handle, error as EngineError);
      return;
    }
    const plan = this.planValue!;
    handle.arena ??= new ArenaPool(`${handle.id}`, planArena(plan.inputs, plan.outputs, plan.maxRows, this.config.maxInflightBatches));
    handle.post({ type: 'attach', version: message.version, sab: handle.arena.sab, layout: handle.arena.layout, plan });
    handle.state = 'ready';
    handle.lastError = null;
    this.events.emit('info', 'worker-ready', `worker ${handle.id} ready (session created in ${message.loadMs.toFixed(1)} ms)`, {
      model: this.model,
      worker: handle.id,
    });
    handle.ready?.resolve();
    handle.ready = undefined;
    this.callbacks.onCapacity();
  }

  private failStart(handle: WorkerHandle<B>, error: EngineError): void {
    handle.lastError = error.message;
    if (handle.ready) {
      // First start: the caller of start() gets the error.
      handle.ready.reject(error);
      handle.ready = undefined;
      void this.stopWorker(handle);
    } else {
      this.lose(handle, error.message, 'worker-crashed');
    }
  }

  /** The worker is gone or unusable: give back its batches and schedule a restart. */
  private lose(handle: WorkerHandle<B>, reason: string, kind: 'worker-crashed' | 'worker-hung'): void {
    handle.base = handle.totals();
    handle.status = new BigInt64Array(new SharedArrayBuffer(STATUS_FIELDS * 8));
    handle.lastError = reason;
    const batches = [...handle.inflight.values()];
    handle.inflight.clear();
    for (const batch of batches) handle.arena?.release(batch.slot);
    const old = handle.worker;
    handle.worker = undefined;
    if (old) void old.terminate();
    if (handle.ready) {
      handle.ready.reject(new ModelLoadError(`worker ${handle.id} failed while starting: ${reason}`));
      handle.ready = undefined;
    }
    // The state changes before the runner hears of the loss: it re-dispatches at once and
    // must not pick this worker again.
    const retiring = handle.state === 'retiring';
    handle.state = this.stopping || retiring ? 'stopped' : 'dead';
    if (retiring) this.handles.splice(this.handles.indexOf(handle), 1);
    this.events.emit('error', kind, `worker ${handle.id} ${kind === 'worker-hung' ? 'hung' : 'died'}: ${reason}`, {
      model: this.model,
      worker: handle.id,
    });
    if (batches.length > 0) this.callbacks.onWorkerLost(handle.id, batches, reason);
    if (handle.state === 'dead') this.scheduleRestart(handle);
  }

  private scheduleRestart(handle: WorkerHandle<B>): void {
    const backoff = Math.min(this.config.restartBackoffMaxMs, this.config.restartBackoffInitialMs * 2 ** handle.consecutiveFailures);
    handle.consecutiveFailures++;
    this.events.emit('warn', 'worker-restarting', `restarting worker ${handle.id} in ${backoff} ms`, {
      model: this.model,
      worker: handle.id,
    });
    handle.restartTimer = setTimeout(() => {
      handle.restartTimer = undefined;
      if (this.stopping || handle.state !== 'dead') return;
      handle.restarts++;
      this.spawn(handle).catch(() => {
        // Already logged by lose(); the next backoff step retries.
      });
    }, backoff);
  }

  private checkHealth(): void {
    const nowMs = Date.now();
    const interval = this.config.heartbeatIntervalMs;
    for (const handle of this.handles) {
      if (handle.state !== 'ready' && handle.state !== 'degraded' && handle.state !== 'retiring') continue;
      const totals = handle.totals();
      const sample = handle.busySamples.current();
      if (!sample.set) Object.assign(sample, { busyUs: totals.busyUs, atMs: performance.now(), set: true });
      const busy = handle.read(Status.state) === Number(WorkerPhase.busy);
      const heartbeatAge = nowMs - handle.read(Status.heartbeatMs);
      const batchAge = busy ? nowMs - handle.read(Status.batchStartedMs) : 0;
      if (busy && batchAge > this.config.batchTimeoutMs) {
        this.lose(handle, `batch running for ${batchAge} ms (limit ${this.config.batchTimeoutMs} ms)`, 'worker-hung');
      } else if (!busy && heartbeatAge > interval * this.config.missedHeartbeats) {
        this.lose(handle, `no heartbeat for ${heartbeatAge} ms`, 'worker-hung');
      } else if (handle.state !== 'retiring') {
        const late = (!busy && heartbeatAge > interval * 1.5) || batchAge > this.config.batchTimeoutMs / 2;
        handle.state = late ? 'degraded' : 'ready';
      }
    }
  }

  private busyFraction(handle: WorkerHandle<B>, busyUs: number, nowMs: number): number {
    const { buckets } = handle.busySamples.window();
    let oldest: { busyUs: number; atMs: number } | undefined;
    for (const b of buckets) if (b.set && (!oldest || b.atMs < oldest.atMs)) oldest = b;
    if (!oldest || nowMs - oldest.atMs < 1) return 0;
    return Math.min(1, Math.max(0, (busyUs - oldest.busyUs) / 1000 / (nowMs - oldest.atMs)));
  }
}

export type { WorkerHandle };
