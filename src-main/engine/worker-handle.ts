/**
 * One inference worker as the pool sees it: its current thread (incarnation), state,
 * batches in flight, the model versions loaded in it, its arenas, and the shared status
 * block the thread writes heartbeats and counters into. The handle changes its own state;
 * the pool decides when.
 */
import { ArenaPool, planArena, type ArenaSizing, type SlotSource } from './arena.js';
import { ByteArena, transferList, type RunTensor } from './byte-arena.js';
import type { EngineClock } from './clock.js';
import { ModelLoadError, WorkerCrashedError, type EngineError } from './errors.js';
import { SecondRing } from './stats/window.js';
import type { WorkerReading } from './watchdog.js';
import { STATUS_FIELDS, Status, WorkerPhase, type FromWorker, type ToWorker } from './worker/protocol.js';
import { isPackedPlan, type ProbeEvidence, type RawValueMetadata, type ServingPlan } from './signature.js';
import { PendingReplies } from './pending-replies.js';
import type { WorkerState } from './snapshot.js';
import type { WorkerThread } from './worker-transport.js';

export interface InflightBatch {
  readonly id: number;
  readonly version: number;
  readonly slot: number;
  readonly rows: number;
  readonly dispatchedAt: number;
  /** Where its slot came from: an arena (row plans) or a byte arena (direct and grouped plans). */
  readonly arena: SlotSource;
  /** A direct or grouped plan's input tensors: packed in the slot, or transferred with the run. */
  readonly inputs?: RunTensor[];
}

export interface LoadedReply {
  readonly inputs: RawValueMetadata[];
  readonly outputs: RawValueMetadata[];
  readonly loadMs: number;
}

/** Cumulative busy time at the first health check of a second, for windowed busy %. */
interface BusySample {
  busyUs: number;
  atMs: number;
  set: boolean;
}

interface Totals {
  batches: number;
  rows: number;
  busyUs: number;
}

export class WorkerHandle<B extends InflightBatch> {
  private stateValue: WorkerState = 'starting';
  private threadValue: WorkerThread | undefined;
  private status = new BigInt64Array(new SharedArrayBuffer(STATUS_FIELDS * 8));
  private readonly batches = new Map<number, B>();
  /** Versions whose session exists and is attached in the current incarnation. */
  private readonly loadedVersions = new Set<number>();
  /** Loads posted and not yet answered; while any is pending the thread is busy creating a session. */
  private readonly loads = new PendingReplies<LoadedReply>();
  /** Arenas (or transfer lanes) by plan key: versions with the same signature share one. They survive restarts. */
  private readonly arenas = new Map<string, SlotSource>();
  /** Probes posted and not yet answered (the thread is busy running them, as for a load). */
  private readonly probes = new PendingReplies<ProbeEvidence>();
  /** Out of rotation while a session is created in it (hot swap). */
  private reservedValue = false;
  private idleWaiters: (() => void)[] = [];
  private incarnationValue = 0;
  private restartsValue = 0;
  /** Losses since the last batch it finished: the restart backoff's exponent. */
  private consecutiveFailures = 0;
  private startedAtMs: number;
  private lastErrorValue: string | null = null;
  private restartTimer: NodeJS.Timeout | undefined;
  // Counters of earlier incarnations, so totals survive restarts.
  private base: Totals = { batches: 0, rows: 0, busyUs: 0 };
  private readonly busySamples: SecondRing<BusySample>;

  constructor(
    readonly id: string,
    private readonly model: string,
    windowSeconds: number,
    private readonly clock: EngineClock,
  ) {
    this.startedAtMs = clock.monotonicMs();
    this.busySamples = new SecondRing<BusySample>(
      windowSeconds,
      () => ({ busyUs: 0, atMs: 0, set: false }),
      (s) => (s.set = false),
      () => clock.monotonicMs(),
    );
  }

  get state(): WorkerState {
    return this.stateValue;
  }

  get thread(): WorkerThread | undefined {
    return this.threadValue;
  }

  get incarnation(): number {
    return this.incarnationValue;
  }

  get restarts(): number {
    return this.restartsValue;
  }

  get lastError(): string | null {
    return this.lastErrorValue;
  }

  get uptimeMs(): number {
    return this.clock.monotonicMs() - this.startedAtMs;
  }

  get live(): boolean {
    return this.stateValue !== 'retiring' && this.stateValue !== 'stopped';
  }

  get serving(): boolean {
    return this.stateValue === 'ready' || this.stateValue === 'degraded';
  }

  get inflightCount(): number {
    return this.batches.size;
  }

  /** Batches in flight, by id (read-only: the handle lends and takes back slots itself). */
  get inflight(): ReadonlyMap<number, B> {
    return this.batches;
  }

  get loading(): boolean {
    return this.loads.size > 0 || this.probes.size > 0;
  }

  get reserved(): boolean {
    return this.reservedValue;
  }

  hasLoaded(version: number): boolean {
    return this.loadedVersions.has(version);
  }

  loadedList(): number[] {
    return [...this.loadedVersions].sort((a, b) => a - b);
  }

  /** The shared-memory arenas (transfer lanes hold none). */
  /** Its arenas and transfer lanes. */
  slotSources(): SlotSource[] {
    return [...this.arenas.values()];
  }

  /** Able to take a batch of a version whose arena has `planKey` (see the balancer). */
  canRun(version: number, planKey: string): boolean {
    return (
      this.serving &&
      !this.reservedValue &&
      !this.loading &&
      this.loadedVersions.has(version) &&
      (this.arenas.get(planKey)?.available ?? 0) > 0
    );
  }

  read(field: number): number {
    return Number(Atomics.load(this.status, field));
  }

  totals(): Totals {
    return {
      batches: this.base.batches + this.read(Status.batches),
      rows: this.base.rows + this.read(Status.rows),
      busyUs: this.base.busyUs + this.read(Status.busyUs),
    };
  }

  /** A new thread for this worker: a new incarnation, starting, with a fresh status block. */
  begin(start: (status: SharedArrayBuffer) => WorkerThread, isRestart: boolean): void {
    if (isRestart) this.restartsValue++;
    this.incarnationValue++;
    this.stateValue = 'starting';
    this.startedAtMs = this.clock.monotonicMs();
    this.threadValue = start(this.status.buffer);
  }

  post(message: ToWorker, transfer?: ArrayBuffer[]): void {
    if (!this.threadValue) throw new Error(`worker ${this.id} has no thread (state ${this.stateValue})`);
    this.threadValue.post(message, transfer);
  }

  /** Run the batching probe on a loaded version in the thread (see batching-probe.ts). */
  probe(version: number): Promise<ProbeEvidence> {
    return this.probes.ask(version, () => this.postOrCrash({ type: 'probe', version }));
  }

  settleProbe(message: Extract<FromWorker, { type: 'probed' }>): boolean {
    return this.probes.settle(message.version, { reply: message.evidence });
  }

  noteError(message: string): void {
    this.lastErrorValue = message;
  }

  markReady(): void {
    this.stateValue = 'ready';
    this.lastErrorValue = null;
  }

  /** The watchdog's view: degraded or back to ready (a hung verdict goes through `lose`). */
  markHealth(degraded: boolean): void {
    if (this.serving) this.stateValue = degraded ? 'degraded' : 'ready';
  }

  retire(): void {
    this.stateValue = 'retiring';
  }

  reserve(): void {
    this.reservedValue = true;
  }

  unreserve(): void {
    this.reservedValue = false;
  }

  /** Create a session for `version` in the thread; settles when the thread answers (see `settleLoad`). */
  load(version: number, bytes: Uint8Array, intraOpThreads: number): Promise<LoadedReply> {
    return this.loads.ask(version, () => this.postOrCrash({ type: 'load', version, model: bytes, intraOpThreads }));
  }

  /** The thread's answer to a load; false if none was pending. */
  settleLoad(message: Extract<FromWorker, { type: 'loaded' | 'load-failed' }>): boolean {
    if (message.type === 'loaded') return this.loads.settle(message.version, { reply: message });
    const error = new ModelLoadError(`model "${this.model}" version ${message.version}: ${message.message}`);
    return this.loads.settle(message.version, { error });
  }

  /** Post to the thread, or a WorkerCrashedError when there is none to answer. */
  private postOrCrash(message: ToWorker): void {
    if (!this.threadValue) throw new WorkerCrashedError(this.id, 'no thread');
    this.threadValue.post(message);
  }

  /** Give the thread the arena a loaded version runs in (made on first use of its plan; a packed plan's is sized in bytes). */
  attach(version: number, plan: ServingPlan, planKey: string, sizing: ArenaSizing): void {
    let source = this.arenas.get(planKey);
    if (!source) {
      const name = this.arenas.size === 0 ? this.id : `${this.id}/v${version}`;
      source = isPackedPlan(plan)
        ? new ByteArena(name, sizing.slotsPerWorker, sizing.variableSlotBytes)
        : new ArenaPool(name, planArena(plan.inputs, plan.outputs, plan.maxRows, sizing.slotsPerWorker));
      this.arenas.set(planKey, source);
    }
    if (source instanceof ByteArena) this.post({ type: 'attach', version, plan, slots: source.geometry });
    else if (source instanceof ArenaPool) this.post({ type: 'attach', version, sab: source.sab, layout: source.layout, plan });
    this.loadedVersions.add(version);
  }

  unload(version: number): void {
    if (!this.loadedVersions.delete(version)) return;
    if (this.threadValue) this.threadValue.post({ type: 'release', version });
  }

  dropArena(planKey: string): void {
    this.arenas.delete(planKey);
  }

  /**
   * Lend a slot of the arena for `planKey` to a batch `fill` builds in it, and run the
   * batch. The caller checked `canRun`, so a slot is free.
   */
  run(planKey: string, fill: (arena: SlotSource, slot: number) => B): B {
    const arena = this.arenas.get(planKey);
    const slot = arena?.acquire();
    if (!arena || slot === undefined) throw new Error(`worker ${this.id} has no free slot for this batch (canRun was not checked)`);
    const batch = fill(arena, slot);
    this.batches.set(batch.id, batch);
    const { id: batchId, version, rows, inputs } = batch;
    this.post({ type: 'run', batchId, version, slot, rows, inputs }, transferList(inputs));
    return batch;
  }

  /**
   * The thread finished batch `batchId`: `use` reads its outputs from the slot, then the
   * slot is taken back. Returns the batch, or undefined if it was not in flight here.
   */
  finish(batchId: number, succeeded: boolean, use: (batch: B) => void): B | undefined {
    const batch = this.batches.get(batchId);
    if (!batch) return undefined;
    this.batches.delete(batchId);
    if (succeeded) this.consecutiveFailures = 0;
    try {
      use(batch);
    } finally {
      batch.arena.release(batch.slot);
      if (this.batches.size === 0) this.wakeIdleWaiters();
    }
    return batch;
  }

  whenIdle(): Promise<void> {
    if (this.batches.size === 0 || !this.threadValue) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Out of rotation at once, before anything can pick it again (then `lose`). */
  markLost(next: 'dead' | 'stopped'): void {
    this.stateValue = next;
  }

  /**
   * The thread is gone or unusable (after `markLost`): end it, fail its loads, take back its slots, and
   * return the batches it never finished. Totals of this incarnation are kept.
   */
  lose(reason: string): B[] {
    this.base = this.totals();
    this.status = new BigInt64Array(new SharedArrayBuffer(STATUS_FIELDS * 8));
    this.loadedVersions.clear();
    this.lastErrorValue = reason;
    this.failPendingLoads(new WorkerCrashedError(this.id, reason));
    const batches = this.takeInflight();
    const old = this.threadValue;
    this.threadValue = undefined;
    if (old) void old.terminate();
    return batches;
  }

  /** Schedule the next incarnation after a backoff that doubles with each loss in a row; returns the backoff. */
  scheduleRestart(initialMs: number, maxMs: number, restart: () => void): number {
    const backoff = Math.min(maxMs, initialMs * 2 ** this.consecutiveFailures);
    this.consecutiveFailures++;
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      restart();
    }, backoff);
    return backoff;
  }

  /** Ask the thread to exit, end it after `graceMs`; the handle is stopped for good. */
  async stop(graceMs: number, settlesWithin: (p: Promise<void>, ms: number) => Promise<boolean>): Promise<void> {
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    const thread = this.threadValue;
    this.stateValue = 'stopped';
    this.failPendingLoads(new WorkerCrashedError(this.id, 'stopped'));
    if (!thread) return;
    thread.post({ type: 'shutdown' });
    if (!(await settlesWithin(thread.exited, graceMs))) await thread.terminate();
    this.threadValue = undefined;
  }

  /** The thread exited after a stop: forget it. */
  detach(): void {
    this.threadValue = undefined;
  }

  /** Batches still in flight, their slots taken back. */
  takeInflight(): B[] {
    const taken = [...this.batches.values()];
    this.batches.clear();
    for (const batch of taken) batch.arena.release(batch.slot);
    this.wakeIdleWaiters();
    return taken;
  }

  /** What the watchdog judges, sampling busy time for the windowed busy share on the way. */
  reading(): WorkerReading {
    const sample = this.busySamples.current();
    if (!sample.set) Object.assign(sample, { busyUs: this.totals().busyUs, atMs: this.clock.monotonicMs(), set: true });
    const phase = BigInt(this.read(Status.state));
    return {
      phase: phase === WorkerPhase.busy ? 'busy' : phase === WorkerPhase.loading ? 'loading' : 'idle',
      heartbeatAtMs: this.read(Status.heartbeatMs),
      blockedSinceMs: this.read(Status.batchStartedMs),
    };
  }

  /** Share of the recent window the thread spent running batches. */
  busyFraction(busyUs: number): number {
    const nowMs = this.clock.monotonicMs();
    const { buckets } = this.busySamples.window();
    let oldest: BusySample | undefined;
    for (const b of buckets) if (b.set && (!oldest || b.atMs < oldest.atMs)) oldest = b;
    if (!oldest || nowMs - oldest.atMs < 1) return 0;
    return Math.min(1, Math.max(0, (busyUs - oldest.busyUs) / 1000 / (nowMs - oldest.atMs)));
  }

  private wakeIdleWaiters(): void {
    for (const wake of this.idleWaiters.splice(0)) wake();
  }

  private failPendingLoads(error: EngineError): void {
    this.loads.failAll(error);
    this.probes.failAll(error);
  }
}
