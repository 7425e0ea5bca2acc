/**
 * The inference workers of one model: spawning, loading model versions into them,
 * dispatch of batches, heartbeats, and the watchdog that detects a dead or hung worker,
 * hands its in-flight batches back to the runner and restarts it with capped
 * exponential backoff.
 *
 * Several versions of a model can be loaded at once (a hot swap loads the new one
 * beside the old, and warm versions stay for rollback). Every serving worker holds
 * every loaded version. Each worker owns its arenas (SharedArrayBuffers cut into
 * `maxInflightBatches` slots), one per distinct signature; they survive restarts.
 */
import { checkMemoryBudget } from './memory-budget.js';
import { judgeWorker } from './watchdog.js';
import { nextMsPerRow, pickWorker } from './balancer.js';
import type { Worker } from 'node:worker_threads';
import { ArenaPool, planArena, type ArenaStats } from './arena.js';
import type { WorkerConfig } from './config.js';
import {
  IncompatibleModelError,
  ModelLoadError,
  StartupTimeoutError,
  UnsupportedModelError,
  WorkerCrashedError,
  asError,
} from './errors.js';
import type { EventLog } from './events.js';
import { planServing, signatureFromMetadata, signaturesCompatible, type ModelSignature, type ServingPlan } from './signature.js';
import type { WorkerStats } from './snapshot.js';
import { WorkerHandle, type InflightBatch, type LoadedReply } from './worker-handle.js';
import { Status, WorkerPhase, type FaultKind, type FromWorker, type ToWorker, type WorkerInit } from './worker/protocol.js';
import { spawnModuleWorker } from '../util/spawn.js';
import { settlesWithin } from '../util/timeout.js';

export type { InflightBatch } from './worker-handle.js';
export type { WorkerState, WorkerStats } from './snapshot.js';
export type { WorkerHandle } from './worker-handle.js';

/** How long a worker may take to release its sessions and exit before it is terminated. */
const SHUTDOWN_GRACE_MS = 2000;

export interface ServedVersion {
  readonly version: number;
  readonly bytes: Uint8Array;
  readonly sha256: string;
  readonly signature: ModelSignature;
  readonly plan: ServingPlan;
  /** Versions with equal plans share arenas. */
  readonly planKey: string;
  readonly loadedAtMs: number;
  /** Session creation time on the slowest worker. */
  readonly loadMs: number;
}

export interface PoolCallbacks<B extends InflightBatch> {
  onDone(batch: B, computeMs: number): void;
  onRunFailed(batch: B, message: string): void;
  /** A worker died or hung; these batches never finished. */
  onWorkerLost(workerId: string, batches: B[], reason: string): void;
  /** A worker has become able to take batches. */
  onCapacity(): void;
}

export interface IntroduceOptions {
  /** Check the new signature against this one (names, dtypes, ranks); skipped with `force`. */
  readonly compareWith?: ModelSignature;
  readonly force?: boolean;
  /** Load on every worker at once (start) instead of one after another (hot swap, so others keep serving). */
  readonly parallel?: boolean;
}

interface Completion<B extends InflightBatch> {
  readonly handle: WorkerHandle<B>;
  readonly worker: Worker;
  readonly message: Extract<FromWorker, { type: 'done' | 'run-failed' }>;
}

/** Every worker must see the signature the first one saw: one check, after every load. */
function checkSameSignature(expected: ModelSignature, reply: LoadedReply, workerId: string): void {
  const difference = signaturesCompatible(expected, signatureFromMetadata(reply.inputs, reply.outputs));
  if (difference) throw new UnsupportedModelError(`worker ${workerId} sees a different signature: ${difference}`);
}

function planKeyOf(plan: ServingPlan): string {
  return JSON.stringify([plan.mode, plan.maxRows, plan.inputs, plan.outputs]);
}

export class WorkerPool<B extends InflightBatch> {
  private readonly handles: WorkerHandle<B>[] = [];
  private readonly versionMap = new Map<number, ServedVersion>();
  /** Recent compute time per row (moving average), to predict which worker finishes first. */
  private msPerRow = 0;
  private nextWorkerNumber = 0;
  /** Batch completions received and not yet handled (see `queueCompletion`). */
  private readonly completions: Completion<B>[] = [];
  private completionTurn: NodeJS.Immediate | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private stopping = false;

  constructor(
    private readonly model: string,
    private config: WorkerConfig,
    private readonly maxBatchSize: number,
    private readonly callbacks: PoolCallbacks<B>,
    private readonly events: EventLog,
    private readonly windowSeconds: number,
    /** What one version may reserve for arenas and staging over all workers (see checkMemoryBudget). */
    private readonly memoryBudgetBytes: number,
  ) {}

  served(version: number): ServedVersion {
    const served = this.versionMap.get(version);
    if (!served) throw new Error(`model "${this.model}" version ${version} is not loaded`);
    return served;
  }

  has(version: number): boolean {
    return this.versionMap.has(version);
  }

  versions(): ServedVersion[] {
    return [...this.versionMap.values()];
  }

  /** Batches the ready workers can hold at once: the depth of the pipeline. */
  get slots(): number {
    let n = 0;
    for (const h of this.handles) if (h.serving) n += this.config.maxInflightBatches;
    return n;
  }

  get inflightBatches(): number {
    let n = 0;
    for (const h of this.handles) n += h.inflight.size;
    return n;
  }

  /** Start `config.count` workers on a first version and wait until each is ready. */
  async start(version: number, bytes: Uint8Array, sha256: string): Promise<ServedVersion> {
    const handles = Array.from({ length: this.config.count }, () => this.addWorker());
    const timeout = this.config.startupTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const waiting = handles.filter((h) => h.state === 'starting').map((h) => h.id);
        reject(new StartupTimeoutError(`model "${this.model}": workers ${waiting.join(', ')} not ready within ${timeout} ms`));
      }, timeout);
    });
    try {
      const served = await Promise.race([this.introduce(version, bytes, sha256, { parallel: true, force: true }), deadline]);
      this.watchdog = setInterval(() => this.checkHealth(), this.config.heartbeatIntervalMs);
      return served;
    } catch (error) {
      await this.stop();
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Load a version into every live worker beside what they serve, check its signature,
   * and attach its arena. On any failure it is released everywhere and the error thrown;
   * what was serving before is untouched.
   */
  async introduce(version: number, bytes: Uint8Array, sha256: string, options: IntroduceOptions = {}): Promise<ServedVersion> {
    if (this.versionMap.has(version)) return this.versionMap.get(version)!;
    let first: { signature: ModelSignature; plan: ServingPlan } | undefined;
    let slowestMs = 0;
    const loadedOn: WorkerHandle<B>[] = [];
    const loadOne = async (handle: WorkerHandle<B>) => {
      const reply = await this.loadOn(handle, version, bytes);
      const signature = signatureFromMetadata(reply.inputs, reply.outputs);
      if (!first) {
        const difference = options.compareWith && !options.force ? signaturesCompatible(options.compareWith, signature) : undefined;
        if (difference) throw new IncompatibleModelError(`model "${this.model}" version ${version}: ${difference}`);
        const plan = planServing(signature, this.maxBatchSize);
        checkMemoryBudget(plan, this.footprint(this.config.count));
        first = { signature, plan };
      } else checkSameSignature(first.signature, reply, handle.id);
      this.attach(handle, version, first.plan);
      loadedOn.push(handle);
      slowestMs = Math.max(slowestMs, reply.loadMs);
    };
    const targets = this.handles.filter((h) => h.live && h.worker);
    try {
      if (options.parallel) await Promise.all(targets.map(loadOne));
      else {
        for (const handle of targets) {
          // Take the worker out of rotation and let its batches finish first, so that no
          // batch waits in its mailbox behind the session being created.
          handle.reserved = true;
          try {
            await this.whenIdle(handle);
            await loadOne(handle);
          } catch (error) {
            // A worker lost mid-swap is restarted with every version loaded; the others decide.
            if (!(error instanceof WorkerCrashedError)) throw error;
          } finally {
            handle.reserved = false;
            this.callbacks.onCapacity();
          }
        }
      }
      if (!first) throw new ModelLoadError(`model "${this.model}" version ${version}: no live worker to load it`);
    } catch (error) {
      for (const handle of loadedOn) this.unload(handle, version);
      throw error;
    }
    const served: ServedVersion = {
      version,
      bytes,
      sha256,
      signature: first.signature,
      plan: first.plan,
      planKey: planKeyOf(first.plan),
      loadedAtMs: Date.now(),
      loadMs: slowestMs,
    };
    this.versionMap.set(version, served);
    for (const handle of this.handles) {
      if (handle.state === 'starting' && handle.worker) this.markReady(handle);
      // A worker restarted during the load has not got this version yet.
      else if (handle.serving && !handle.loaded.has(version)) void this.ensureVersions(handle);
    }
    return served;
  }

  /** Drop a version from every worker (its batches must have finished). */
  release(version: number): void {
    const served = this.versionMap.get(version);
    if (!served) return;
    this.versionMap.delete(version);
    for (const handle of this.handles) this.unload(handle, version);
    const keys = new Set([...this.versionMap.values()].map((v) => v.planKey));
    if (!keys.has(served.planKey)) for (const handle of this.handles) handle.arenas.delete(served.planKey);
  }

  /** A serving worker that holds `version` and has a free slot, preferring healthy ones that finish first (see balancer.ts). */
  pick(version: number): WorkerHandle<B> | undefined {
    const key = this.versionMap.get(version)?.planKey;
    if (key === undefined) return undefined;
    return pickWorker(
      this.handles,
      (h) => h.serving && !h.reserved && h.loaded.has(version) && h.pendingLoads.size === 0 && (h.arenas.get(key)?.available ?? 0) > 0,
      this.msPerRow,
    );
  }

  arenaFor(handle: WorkerHandle<B>, version: number): ArenaPool {
    return handle.arenas.get(this.served(version).planKey)!;
  }

  /** Hand a batch, already copied into its arena slot, to the worker. */
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

  /** The workers, batches in flight and budget a plan is checked against. */
  footprint(workers: number) {
    return { workers, maxInflightBatches: this.config.maxInflightBatches, memoryBudgetBytes: this.memoryBudgetBytes };
  }

  /** Grow or shrink the pool. Retiring workers finish their batches first. A pool that would outgrow the memory budget is refused. */
  resize(count: number): void {
    for (const served of this.versionMap.values()) checkMemoryBudget(served.plan, this.footprint(count));
    this.config = { ...this.config, count };
    const live = this.handles.filter((h) => h.live);
    for (let i = live.length; i < count; i++) this.addWorker();
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
          busyFraction: h.busyFraction(totals.busyUs, now),
          heartbeatAgeMs: heartbeat > 0 ? Math.max(0, Date.now() - heartbeat) : null,
          uptimeMs: now - h.startedAt,
          versions: [...h.loaded].sort((a, b) => a - b),
          loading: h.pendingLoads.size > 0,
          lastError: h.lastError,
        };
      });
  }

  arenaStats(): ArenaStats[] {
    return this.handles.filter((h) => h.state !== 'stopped').flatMap((h) => [...h.arenas.values()].map((a) => a.stats()));
  }

  /** Stop every worker. Callers drain first. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = undefined;
    await Promise.all(this.handles.map((h) => this.stopWorker(h)));
    this.handleCompletions();
  }

  /** Batches still recorded as in flight (after stop), removed from the pool. */
  takeInflight(): B[] {
    const batches: B[] = [];
    for (const handle of this.handles) {
      for (const batch of handle.inflight.values()) {
        batch.arena.release(batch.slot);
        batches.push(batch);
      }
      handle.inflight.clear();
    }
    return batches;
  }

  private whenIdle(handle: WorkerHandle<B>): Promise<void> {
    if (handle.inflight.size === 0 || !handle.worker) return Promise.resolve();
    return new Promise((resolve) => handle.idleWaiters.push(resolve));
  }

  private loadOn(handle: WorkerHandle<B>, version: number, bytes: Uint8Array): Promise<LoadedReply> {
    return new Promise<LoadedReply>((resolve, reject) => {
      if (!handle.worker) {
        reject(new WorkerCrashedError(handle.id, 'no thread'));
        return;
      }
      handle.pendingLoads.set(version, { resolve, reject });
      handle.post({ type: 'load', version, model: bytes, intraOpThreads: this.config.intraOpThreads });
    });
  }

  private attach(handle: WorkerHandle<B>, version: number, plan: ServingPlan): void {
    const key = planKeyOf(plan);
    let arena = handle.arenas.get(key);
    if (!arena) {
      const name = handle.arenas.size === 0 ? handle.id : `${handle.id}/v${version}`;
      arena = new ArenaPool(name, planArena(plan.inputs, plan.outputs, plan.maxRows, this.config.maxInflightBatches));
      handle.arenas.set(key, arena);
    }
    handle.post({ type: 'attach', version, sab: arena.sab, layout: arena.layout, plan });
    handle.loaded.add(version);
  }

  private unload(handle: WorkerHandle<B>, version: number): void {
    if (!handle.loaded.delete(version)) return;
    if (handle.worker) handle.post({ type: 'release', version });
  }

  /** Load into a (re)started worker every version the pool serves, then mark it ready. */
  private async ensureVersions(handle: WorkerHandle<B>): Promise<void> {
    const incarnation = handle.incarnation;
    try {
      for (const served of [...this.versionMap.values()]) {
        if (handle.loaded.has(served.version)) continue;
        const reply = await this.loadOn(handle, served.version, served.bytes);
        if (handle.incarnation !== incarnation) return;
        checkSameSignature(served.signature, reply, handle.id);
        if (this.versionMap.has(served.version)) this.attach(handle, served.version, served.plan);
      }
      if (handle.state === 'starting') this.markReady(handle);
    } catch (error) {
      if (error instanceof WorkerCrashedError || handle.incarnation !== incarnation) return; // lose() already ran
      this.lose(handle, asError(error).message, 'worker-crashed');
    }
  }

  private markReady(handle: WorkerHandle<B>): void {
    for (const version of this.versionMap.keys()) if (!handle.loaded.has(version)) return;
    handle.state = 'ready';
    handle.lastError = null;
    this.events.emit('info', 'worker-ready', `worker ${handle.id} ready with version(s) ${[...handle.loaded].join(', ')}`, {
      model: this.model,
      worker: handle.id,
    });
    this.callbacks.onCapacity();
  }

  private async stopWorker(handle: WorkerHandle<B>): Promise<void> {
    if (handle.restartTimer) clearTimeout(handle.restartTimer);
    handle.restartTimer = undefined;
    const worker = handle.worker;
    handle.state = 'stopped';
    handle.failPendingLoads(new WorkerCrashedError(handle.id, 'stopped'));
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage({ type: 'shutdown' } satisfies ToWorker);
    if (!(await settlesWithin(exited, SHUTDOWN_GRACE_MS))) await worker.terminate();
    handle.worker = undefined;
  }

  private addWorker(): WorkerHandle<B> {
    const handle = new WorkerHandle<B>(`${this.model}#${this.nextWorkerNumber++}`, this.windowSeconds);
    this.handles.push(handle);
    this.spawn(handle);
    return handle;
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

  private spawn(handle: WorkerHandle<B>): void {
    handle.incarnation++;
    handle.state = 'starting';
    handle.startedAt = performance.now();
    const init: WorkerInit = { workerId: handle.id, status: handle.status.buffer, heartbeatIntervalMs: this.config.heartbeatIntervalMs };
    const worker = spawnModuleWorker(
      { callerUrl: import.meta.url, source: './worker/inference-worker.ts', built: 'inference-worker.js' },
      { workerData: init, name: handle.id },
    );
    handle.worker = worker;
    worker.on('message', (message: FromWorker) => {
      if (message.type === 'done' || message.type === 'run-failed') this.queueCompletion({ handle, worker, message });
      else this.onMessage(handle, worker, message);
    });
    worker.on('error', (error) => {
      handle.lastError = error.message;
    });
    worker.on('exit', (code) => {
      if (handle.worker !== worker) return; // an older incarnation, already handled
      if (handle.state !== 'stopped') {
        this.lose(handle, handle.lastError ?? `thread exited with code ${code}`, 'worker-crashed');
        return;
      }
      this.handleCompletions();
      handle.worker = undefined;
    });
    if (this.versionMap.size > 0) void this.ensureVersions(handle);
  }

  /**
   * Completions are handled once per turn of the event loop, not as each message arrives.
   * Node drains up to 1000 messages from a port in one callback, and handling a completion
   * wakes callers who send the next requests, which a fast model answers before the drain
   * ends: handled at once, completions could hold the loop for tens of milliseconds
   * (measured on the small model: loop delay p99 32-41 ms, 2-3 ms deferred to a setImmediate).
   */
  private queueCompletion(completion: Completion<B>): void {
    this.completions.push(completion);
    this.completionTurn ??= setImmediate(() => this.handleCompletions());
  }

  private handleCompletions(): void {
    if (this.completionTurn) clearImmediate(this.completionTurn);
    this.completionTurn = undefined;
    for (const { handle, worker, message } of this.completions.splice(0)) this.onMessage(handle, worker, message);
  }

  private onMessage(handle: WorkerHandle<B>, worker: Worker, message: FromWorker): void {
    if (handle.worker !== worker) return;
    switch (message.type) {
      case 'loaded':
      case 'load-failed': {
        const pending = handle.pendingLoads.get(message.version);
        if (!pending) return;
        handle.pendingLoads.delete(message.version);
        if (message.type === 'loaded') pending.resolve(message);
        else pending.reject(new ModelLoadError(`model "${this.model}" version ${message.version}: ${message.message}`));
        if (handle.pendingLoads.size === 0 && handle.serving) this.callbacks.onCapacity();
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
          this.msPerRow = nextMsPerRow(this.msPerRow, message.computeMs, batch.rows);
          this.callbacks.onDone(batch, message.computeMs);
        } else {
          this.events.emit('error', 'batch-failed', `batch of ${batch.rows} rows failed on ${handle.id}: ${message.message}`, {
            model: this.model,
            worker: handle.id,
          });
          this.callbacks.onRunFailed(batch, message.message);
        }
        batch.arena.release(batch.slot);
        if (handle.inflight.size === 0) handle.wakeIdleWaiters();
        if (handle.state === 'retiring') this.finishRetiring(handle);
        else this.callbacks.onCapacity();
        break;
      }
    }
  }

  /** The worker is gone or unusable: give back its batches and schedule a restart. */
  private lose(handle: WorkerHandle<B>, reason: string, kind: 'worker-crashed' | 'worker-hung'): void {
    // Out of rotation first: answering what it finished (below) and hearing of the loss
    // both re-dispatch at once, and must not pick this worker again.
    const retiring = handle.state === 'retiring';
    handle.state = this.stopping || retiring ? 'stopped' : 'dead';
    this.handleCompletions(); // a batch it finished before it went is answered, not retried
    handle.resetIncarnation();
    handle.lastError = reason;
    handle.failPendingLoads(new WorkerCrashedError(handle.id, reason));
    const batches = [...handle.inflight.values()];
    handle.inflight.clear();
    for (const batch of batches) batch.arena.release(batch.slot);
    handle.wakeIdleWaiters();
    const old = handle.worker;
    handle.worker = undefined;
    if (old) void old.terminate();
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
      this.spawn(handle);
    }, backoff);
  }

  private checkHealth(): void {
    const nowMs = Date.now();
    for (const handle of this.handles) {
      if (!handle.serving && handle.state !== 'retiring' && handle.state !== 'starting') continue;
      if (!handle.worker) continue;
      const totals = handle.totals();
      const sample = handle.busySamples.current();
      if (!sample.set) Object.assign(sample, { busyUs: totals.busyUs, atMs: performance.now(), set: true });
      const phase = BigInt(handle.read(Status.state));
      const verdict = judgeWorker(
        {
          phase: phase === WorkerPhase.busy ? 'busy' : phase === WorkerPhase.loading ? 'loading' : 'idle',
          heartbeatAtMs: handle.read(Status.heartbeatMs),
          blockedSinceMs: handle.read(Status.batchStartedMs),
        },
        this.config,
        nowMs,
      );
      if (verdict.kind === 'hung') this.lose(handle, verdict.reason, 'worker-hung');
      else if (handle.serving) handle.state = verdict.kind === 'degraded' ? 'degraded' : 'ready';
    }
  }
}
