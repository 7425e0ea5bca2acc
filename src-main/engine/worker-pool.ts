/**
 * The inference workers of one model: spawning (through a WorkerTransport), loading model
 * versions into them, dispatch of batches, and acting on the watchdog's verdicts: a dead
 * or hung worker's in-flight batches go back to the runner and it restarts with capped
 * exponential backoff.
 *
 * Several versions of a model can be loaded at once (a hot swap loads the new one
 * beside the old, and warm versions stay for rollback). Every serving worker holds
 * every loaded version. Each worker owns its arenas (SharedArrayBuffers cut into
 * `maxInflightBatches` slots), one per distinct signature; they survive restarts.
 */
import type { ArenaSizing, ArenaStats, SlotSource } from './arena.js';
import type { ByteArena } from './byte-arena.js';
import type { ProbeEvidence } from './signature.js';
import { nextMsPerRow, pickWorker } from './balancer.js';
import { systemClock, type EngineClock } from './clock.js';
import type { WorkerConfig } from './config.js';
import { StartupTimeoutError, WorkerCrashedError, asError } from './errors.js';
import type { EventLog } from './events.js';
import { CompletionTurn } from './completion-turn.js';
import { checkMemoryBudget, type ServingFootprint } from './memory-budget.js';
import { arenaStats, workerStats } from './pool-stats.js';
import { checkSameSignature, type ServedVersion } from './served-version.js';
import type { WorkerStats } from './snapshot.js';
import { loadVersion, type IntroduceOptions } from './version-loading.js';
import { judgeWorker } from './watchdog.js';
import { WorkerHandle, type InflightBatch } from './worker-handle.js';
import { threadTransport, type WorkerTransport } from './worker-transport.js';
import type { PoolCallbacks, PoolOptions } from './pool-options.js';
import type { FaultKind, FromWorker } from './worker/protocol.js';
import { settlesWithin } from '../util/timeout.js';

export type { InflightBatch } from './worker-handle.js';
export type { WorkerState, WorkerStats } from './snapshot.js';
export type { WorkerHandle } from './worker-handle.js';
export type { ServedVersion } from './served-version.js';
export type { IntroduceOptions } from './version-loading.js';
export type { PoolCallbacks, PoolOptions } from './pool-options.js';

/** How long a worker may take to release its sessions and exit before it is terminated. */
const SHUTDOWN_GRACE_MS = 2000;

type Completion<B extends InflightBatch> = {
  readonly handle: WorkerHandle<B>;
  readonly incarnation: number;
  readonly message: Extract<FromWorker, { type: 'done' | 'run-failed' }>;
};

export class WorkerPool<B extends InflightBatch> {
  private readonly handles: WorkerHandle<B>[] = [];
  private readonly versionMap = new Map<number, ServedVersion>();
  /** Recent compute time per row (moving average), to predict which worker finishes first. */
  private msPerRow = 0;
  private nextWorkerNumber = 0;
  /** Batch completions received and not yet handled (see completion-turn.ts). */
  private readonly completions = new CompletionTurn<Completion<B>>(({ handle, incarnation, message }) => {
    if (handle.incarnation === incarnation && handle.thread) this.onBatchReply(handle, message);
  });
  private watchdog: NodeJS.Timeout | undefined;
  private stopping = false;
  private config: WorkerConfig;
  private readonly model: string;
  private readonly callbacks: PoolCallbacks<B>;
  private readonly events: EventLog;
  private readonly transport: WorkerTransport;
  private readonly clock: EngineClock;

  constructor(private readonly options: PoolOptions<B>) {
    this.model = options.model;
    this.config = options.config;
    this.callbacks = options.callbacks;
    this.events = options.events;
    this.transport = options.transport ?? threadTransport;
    this.clock = options.clock ?? systemClock;
  }

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

  /** Batches the serving workers can hold at once: the depth of the pipeline. */
  get pipelineDepth(): number {
    let n = 0;
    for (const h of this.handles) if (h.serving) n += this.config.maxInflightBatches;
    return n;
  }

  get inflightBatches(): number {
    let n = 0;
    for (const h of this.handles) n += h.inflightCount;
    return n;
  }

  /** Start `config.count` workers on a first version and wait until each is ready. */
  async start(version: number, bytes: Uint8Array, sha256: string, evidence?: ProbeEvidence): Promise<ServedVersion> {
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
      const served = await Promise.race([this.introduce(version, bytes, sha256, { parallel: true, force: true, evidence }), deadline]);
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
    const known = this.versionMap.get(version);
    if (known) return known;
    const served = await loadVersion(
      { version, bytes, sha256 },
      this.handles.filter((h) => h.live && h.thread),
      {
        model: this.model,
        maxBatchSize: this.options.maxBatchSize,
        batchingMode: this.options.batchingMode,
        intraOpThreads: this.config.intraOpThreads,
        sizing: this.sizing(),
        footprint: this.footprint(this.config.count),
        onCapacity: () => this.callbacks.onCapacity(),
        nowMs: () => this.clock.epochMs(),
      },
      options,
    );
    this.versionMap.set(version, served);
    for (const handle of this.handles) {
      if (handle.state === 'starting' && handle.thread) this.markReady(handle);
      // A worker restarted during the load has not got this version yet.
      else if (handle.serving && !handle.hasLoaded(version)) void this.ensureVersions(handle);
    }
    return served;
  }

  /** Drop a version from every worker (its batches must have finished). */
  release(version: number): void {
    const served = this.versionMap.get(version);
    if (!served) return;
    this.versionMap.delete(version);
    for (const handle of this.handles) handle.unload(version);
    const keys = new Set([...this.versionMap.values()].map((v) => v.planKey));
    if (!keys.has(served.planKey)) for (const handle of this.handles) handle.dropArena(served.planKey);
  }

  /** A serving worker that holds `version` and has a free slot, preferring healthy ones that finish first (see balancer.ts). */
  pick(version: number): WorkerHandle<B> | undefined {
    const key = this.versionMap.get(version)?.planKey;
    if (key === undefined) return undefined;
    return pickWorker(this.handles, (h) => h.canRun(version, key), this.msPerRow);
  }

  /**
   * Lend `handle` (from `pick`) a slot for a batch of `version`, let `fill` build the batch
   * in it, and run it there. The slot comes back to the arena when the batch finishes or
   * the worker is lost.
   */
  run(handle: WorkerHandle<B>, version: number, fill: (arena: SlotSource, slot: number) => B): B {
    return handle.run(this.served(version).planKey, fill);
  }

  injectFault(workerIndex: number, kind: FaultKind): string {
    const handle = this.handles.filter((h) => h.state !== 'stopped')[workerIndex];
    if (!handle) throw new RangeError(`model "${this.model}" has no worker ${workerIndex}`);
    handle.post({ type: 'fault', kind });
    return handle.id;
  }

  /** The workers, batches in flight and budget a plan is checked against. */
  footprint(workers: number): ServingFootprint {
    const { maxInflightBatches, variableSlotBytes } = this.config;
    return { workers, maxInflightBatches, variableSlotBytes, memoryBudgetBytes: this.options.memoryBudgetBytes };
  }

  /** How each worker's arenas are cut. */
  private sizing(): ArenaSizing {
    return { slotsPerWorker: this.config.maxInflightBatches, variableSlotBytes: this.config.variableSlotBytes };
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
    return workerStats(this.model, this.handles, this.clock);
  }

  arenaStats(): ArenaStats[] {
    return arenaStats(this.handles);
  }

  /** Stop every worker. Callers drain first. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = undefined;
    await Promise.all(this.handles.map((h) => h.stop(SHUTDOWN_GRACE_MS, settlesWithin)));
    this.completions.flush();
  }

  /** Batches still recorded as in flight (after stop), their slots taken back. */
  takeInflight(): B[] {
    return this.handles.flatMap((h) => h.takeInflight());
  }

  /** Load into a (re)started worker every version the pool serves, then mark it ready. */
  private async ensureVersions(handle: WorkerHandle<B>): Promise<void> {
    const incarnation = handle.incarnation;
    try {
      for (const served of [...this.versionMap.values()]) {
        if (handle.hasLoaded(served.version)) continue;
        const reply = await handle.load(served.version, served.bytes, this.config.intraOpThreads);
        if (handle.incarnation !== incarnation) return;
        checkSameSignature(served.signature, reply, handle.id);
        if (this.versionMap.has(served.version)) handle.attach(served.version, served.plan, served.planKey, this.sizing());
      }
      if (handle.state === 'starting') this.markReady(handle);
    } catch (error) {
      if (error instanceof WorkerCrashedError || handle.incarnation !== incarnation) return; // lose() already ran
      this.lose(handle, asError(error).message, 'worker-crashed');
    }
  }

  private markReady(handle: WorkerHandle<B>): void {
    for (const version of this.versionMap.keys()) if (!handle.hasLoaded(version)) return;
    handle.markReady();
    this.events.emit('info', 'worker-ready', `worker ${handle.id} ready with version(s) ${handle.loadedList().join(', ')}`, {
      model: this.model,
      worker: handle.id,
    });
    this.callbacks.onCapacity();
  }

  private addWorker(): WorkerHandle<B> {
    const handle = new WorkerHandle<B>(`${this.model}#${this.nextWorkerNumber++}`, this.model, this.options.windowSeconds, this.clock);
    this.handles.push(handle);
    this.spawn(handle, false);
    return handle;
  }

  private retire(handle: WorkerHandle<B>): void {
    handle.retire();
    this.events.emit('info', 'worker-retired', `worker ${handle.id} retiring (pool resized)`, { model: this.model, worker: handle.id });
    this.finishRetiring(handle);
  }

  private finishRetiring(handle: WorkerHandle<B>): void {
    if (handle.state !== 'retiring' || handle.inflightCount > 0) return;
    void handle.stop(SHUTDOWN_GRACE_MS, settlesWithin).then(() => this.forget(handle));
  }

  private forget(handle: WorkerHandle<B>): void {
    const index = this.handles.indexOf(handle);
    if (index >= 0) this.handles.splice(index, 1);
  }

  private spawn(handle: WorkerHandle<B>, isRestart: boolean): void {
    handle.begin((status) => {
      const incarnation = handle.incarnation;
      // Messages of an older incarnation are ignored: that thread was lost and its batches handed back.
      const current = () => handle.incarnation === incarnation && handle.thread !== undefined;
      return this.transport(
        { workerId: handle.id, status, heartbeatIntervalMs: this.config.heartbeatIntervalMs },
        {
          message: (message) => {
            if (message.type === 'done' || message.type === 'run-failed') this.completions.push({ handle, incarnation, message });
            else if (message.type === 'probed') {
              if (current()) handle.settleProbe(message);
            } else if (current()) this.onLoadReply(handle, message);
          },
          error: (error) => {
            if (current()) handle.noteError(error.message);
          },
          exit: (code) => {
            if (!current()) return; // an older incarnation, already handled
            if (handle.state !== 'stopped') {
              this.lose(handle, handle.lastError ?? `thread exited with code ${code}`, 'worker-crashed');
              return;
            }
            this.completions.flush();
            handle.detach();
          },
        },
      );
    }, isRestart);
    if (this.versionMap.size > 0) void this.ensureVersions(handle);
  }

  private onLoadReply(handle: WorkerHandle<B>, message: Extract<FromWorker, { type: 'loaded' | 'load-failed' }>): void {
    if (handle.settleLoad(message) && !handle.loading && handle.serving) this.callbacks.onCapacity();
  }

  private onBatchReply(handle: WorkerHandle<B>, message: Extract<FromWorker, { type: 'done' | 'run-failed' }>): void {
    const succeeded = message.type === 'done';
    // The callback reads outputs from the slot; the handle takes the slot back after it.
    const batch = handle.finish(message.batchId, succeeded, (finished) => {
      if (message.type === 'done') {
        this.msPerRow = nextMsPerRow(this.msPerRow, message.computeMs, finished.rows);
        // Only a packed plan's runs send outputs, and a packed plan's slots are a byte arena's (worker-handle.ts attach).
        const outputs = message.outputs && (finished.arena as ByteArena).receive(finished.slot, message.outputs);
        this.callbacks.onDone(finished, message.computeMs, outputs);
      } else {
        this.events.emit('error', 'batch-failed', `batch of ${finished.rows} rows failed on ${handle.id}: ${message.message}`, {
          model: this.model,
          worker: handle.id,
        });
        this.callbacks.onRunFailed(finished, message.message);
      }
    });
    if (!batch) return;
    if (handle.state === 'retiring') this.finishRetiring(handle);
    else this.callbacks.onCapacity();
  }

  /** The worker is gone or unusable: give back its batches and schedule a restart. */
  private lose(handle: WorkerHandle<B>, reason: string, kind: 'worker-crashed' | 'worker-hung'): void {
    // Out of rotation first: answering what it finished (below) and hearing of the loss
    // both re-dispatch at once, and must not pick this worker again.
    const retiring = handle.state === 'retiring';
    handle.markLost(this.stopping || retiring ? 'stopped' : 'dead');
    this.completions.flush(); // a batch it finished before it went is answered, not retried
    const batches = handle.lose(reason);
    if (retiring) this.forget(handle);
    this.events.emit('error', kind, `worker ${handle.id} ${kind === 'worker-hung' ? 'hung' : 'died'}: ${reason}`, {
      model: this.model,
      worker: handle.id,
    });
    if (batches.length > 0) this.callbacks.onWorkerLost(handle.id, batches, reason);
    if (handle.state === 'dead') this.scheduleRestart(handle);
  }

  private scheduleRestart(handle: WorkerHandle<B>): void {
    const { restartBackoffInitialMs, restartBackoffMaxMs } = this.config;
    const backoff = handle.scheduleRestart(restartBackoffInitialMs, restartBackoffMaxMs, () => {
      if (this.stopping || handle.state !== 'dead') return;
      this.spawn(handle, true);
    });
    this.events.emit('warn', 'worker-restarting', `restarting worker ${handle.id} in ${backoff} ms`, {
      model: this.model,
      worker: handle.id,
    });
  }

  /** The watchdog's round: judge each worker with a thread and act on the verdict. */
  checkHealth(): void {
    const nowMs = this.clock.epochMs();
    for (const handle of this.handles) {
      if (!handle.serving && handle.state !== 'retiring' && handle.state !== 'starting') continue;
      if (!handle.thread) continue;
      const verdict = judgeWorker(handle.reading(), this.config, nowMs);
      if (verdict.kind === 'hung') this.lose(handle, verdict.reason, 'worker-hung');
      else handle.markHealth(verdict.kind === 'degraded');
    }
  }
}
