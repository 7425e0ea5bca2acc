/**
 * One inference worker as the pool sees it: its current thread (incarnation), state,
 * batches in flight, the model versions loaded in it, its arenas, and the shared status
 * block the thread writes heartbeats and counters into.
 */
import type { Worker } from 'node:worker_threads';
import type { ArenaPool } from './arena.js';
import type { EngineError } from './errors.js';
import { SecondRing } from './stats/window.js';
import { STATUS_FIELDS, Status, type ToWorker } from './worker/protocol.js';
import type { RawValueMetadata } from './signature.js';
import type { WorkerState } from './snapshot.js';

export interface InflightBatch {
  readonly id: number;
  readonly version: number;
  readonly slot: number;
  readonly rows: number;
  readonly dispatchedAt: number;
  readonly arena: ArenaPool;
}

export interface LoadedReply {
  readonly inputs: RawValueMetadata[];
  readonly outputs: RawValueMetadata[];
  readonly loadMs: number;
}

interface PendingLoad {
  resolve: (reply: LoadedReply) => void;
  reject: (error: EngineError) => void;
}

/** Cumulative busy time at the first health check of a second, for windowed busy %. */
interface BusySample {
  busyUs: number;
  atMs: number;
  set: boolean;
}

export class WorkerHandle<B extends InflightBatch> {
  worker: Worker | undefined;
  state: WorkerState = 'starting';
  status = new BigInt64Array(new SharedArrayBuffer(STATUS_FIELDS * 8));
  readonly inflight = new Map<number, B>();
  /** Versions whose session exists and is attached in the current incarnation. */
  readonly loaded = new Set<number>();
  /** Loads posted and not yet answered; while any is pending the thread is busy creating a session. */
  readonly pendingLoads = new Map<number, PendingLoad>();
  /** Arenas by plan key: versions with the same signature share one. They survive restarts. */
  readonly arenas = new Map<string, ArenaPool>();
  /** Out of rotation while a session is created in it (hot swap). */
  reserved = false;
  /** Callers waiting for the in-flight batches to finish. */
  idleWaiters: (() => void)[] = [];
  incarnation = 0;
  restarts = 0;
  consecutiveFailures = 0;
  startedAt = performance.now();
  lastError: string | null = null;
  restartTimer: NodeJS.Timeout | undefined;
  // Counters of earlier incarnations, so totals survive restarts.
  base = { batches: 0, rows: 0, busyUs: 0 };
  readonly busySamples: SecondRing<BusySample>;

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

  get live(): boolean {
    return this.state !== 'retiring' && this.state !== 'stopped';
  }

  get serving(): boolean {
    return this.state === 'ready' || this.state === 'degraded';
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

  /** Start a new incarnation's bookkeeping; counters of the old one are kept in `base`. */
  resetIncarnation(): void {
    this.base = this.totals();
    this.status = new BigInt64Array(new SharedArrayBuffer(STATUS_FIELDS * 8));
    this.loaded.clear();
  }

  wakeIdleWaiters(): void {
    for (const wake of this.idleWaiters.splice(0)) wake();
  }

  failPendingLoads(error: EngineError): void {
    for (const pending of this.pendingLoads.values()) pending.reject(error);
    this.pendingLoads.clear();
  }

  busyFraction(busyUs: number, nowMs: number): number {
    const { buckets } = this.busySamples.window();
    let oldest: BusySample | undefined;
    for (const b of buckets) if (b.set && (!oldest || b.atMs < oldest.atMs)) oldest = b;
    if (!oldest || nowMs - oldest.atMs < 1) return 0;
    return Math.min(1, Math.max(0, (busyUs - oldest.busyUs) / 1000 / (nowMs - oldest.atMs)));
  }
}
