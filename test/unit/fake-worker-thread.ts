/**
 * A scripted stand-in for the inference thread, behind the same WorkerTransport the pool
 * uses: it answers loads with a signature the test chooses, keeps each batch it is given
 * until the test finishes it (computing y = 2x in the arena, as a real session writes its
 * outputs there), and dies or hangs on command. Everything happens on the test's thread,
 * so tests drive the runner and the pool with no onnxruntime and no timing.
 */
import { slotViews, type ArenaLayout } from '../../src-main/engine/arena.js';
import { isPackedPlan, type ProbeEvidence, type RawValueMetadata, type RowPlan } from '../../src-main/engine/signature.js';
import type { WorkerThread, WorkerThreadListener, WorkerTransport } from '../../src-main/engine/worker-transport.js';
import { Status, WorkerPhase, type ToWorker, type WorkerInit } from '../../src-main/engine/worker/protocol.js';

/** x: float32 [batch, 4] in, y: float32 [batch, 4] out: a model the plan batches dynamically. */
export const DOUBLER_SIGNATURE: { inputs: RawValueMetadata[]; outputs: RawValueMetadata[] } = {
  inputs: [{ name: 'x', isTensor: true, type: 'float32', shape: [-1, 4] }],
  outputs: [{ name: 'y', isTensor: true, type: 'float32', shape: [-1, 4] }],
};

interface Attached {
  sab: SharedArrayBuffer;
  layout: ArenaLayout;
  plan: RowPlan;
}

export interface RunMessage {
  readonly batchId: number;
  readonly version: number;
  readonly slot: number;
  readonly rows: number;
}

let nextThreadId = 1000;

export class FakeWorkerThread implements WorkerThread {
  readonly threadId = nextThreadId++;
  readonly exited: Promise<void>;
  /** Batches posted and not yet finished by the test. */
  readonly running: RunMessage[] = [];
  readonly received: ToWorker['type'][] = [];
  private readonly attached = new Map<number, Attached>();
  private readonly status: BigInt64Array;
  private ended = false;
  private resolveExit!: () => void;

  constructor(
    readonly init: WorkerInit,
    private readonly listener: WorkerThreadListener,
    private readonly farm: FakeWorkerFarm,
  ) {
    this.status = new BigInt64Array(init.status);
    this.exited = new Promise((resolve) => (this.resolveExit = resolve));
    this.setPhase(WorkerPhase.idle);
  }

  get alive(): boolean {
    return !this.ended;
  }

  post(message: ToWorker): void {
    if (this.ended) return;
    this.received.push(message.type);
    switch (message.type) {
      case 'load': {
        const failure = this.farm.loadFailure?.(message.version);
        // Answer on a later turn, as a thread does: the pool must not rely on a synchronous reply.
        queueMicrotask(() => {
          if (this.ended) return;
          if (failure) this.listener.message({ type: 'load-failed', version: message.version, message: failure });
          else this.listener.message({ type: 'loaded', version: message.version, ...this.farm.signature(message.version), loadMs: 1 });
        });
        break;
      }
      case 'attach':
        // The doubler's plan has rows: it is attached with its arena.
        if (!isPackedPlan(message.plan) && message.sab && message.layout)
          this.attached.set(message.version, { sab: message.sab, layout: message.layout, plan: message.plan });
        break;
      case 'probe': {
        const evidence = this.farm.evidence(message.version);
        queueMicrotask(() => {
          if (!this.ended) this.listener.message({ type: 'probed', version: message.version, evidence });
        });
        break;
      }
      case 'release':
        this.attached.delete(message.version);
        break;
      case 'run':
        this.running.push(message);
        this.farm.onRun?.(this, message);
        break;
      case 'fault':
        if (message.kind === 'crash-now') this.exit(1);
        break;
      case 'shutdown':
        this.exit(0);
        break;
    }
  }

  /** Finish the oldest running batch (or the one given): y = 2x in its slot, then 'done'. */
  finish(batch: RunMessage = this.running[0]!, computeMs = 1): void {
    this.running.splice(this.running.indexOf(batch), 1);
    const { sab, layout, plan } = this.attached.get(batch.version)!;
    const [x] = slotViews(sab, layout, batch.slot, plan.inputs, layout.inputs) as Float32Array[];
    const [y] = slotViews(sab, layout, batch.slot, plan.outputs, layout.outputs) as Float32Array[];
    for (let i = 0; i < batch.rows * 4; i++) y![i] = x![i]! * 2;
    Atomics.add(this.status, Status.batches, 1n);
    Atomics.add(this.status, Status.rows, BigInt(batch.rows));
    this.listener.message({ type: 'done', batchId: batch.batchId, computeMs });
  }

  fail(batch: RunMessage = this.running[0]!, message = 'scripted failure'): void {
    this.running.splice(this.running.indexOf(batch), 1);
    this.listener.message({ type: 'run-failed', batchId: batch.batchId, message });
  }

  /** Write a heartbeat stamped with `atMs` (the wall clock the watchdog compares with). */
  beat(atMs: number): void {
    Atomics.store(this.status, Status.heartbeatMs, BigInt(Math.round(atMs)));
  }

  /** The thread dies (a crash): its exit is reported as a real thread's would be. */
  exit(code: number): void {
    if (this.ended) return;
    this.ended = true;
    this.listener.exit(code);
    this.resolveExit();
  }

  terminate(): Promise<void> {
    this.exit(1);
    return Promise.resolve();
  }

  private setPhase(phase: bigint): void {
    Atomics.store(this.status, Status.state, phase);
  }
}

/** The transport tests hand to the pool, with every thread it started. */
export class FakeWorkerFarm {
  readonly threads: FakeWorkerThread[] = [];
  /** Signature a loaded version reports (default: the doubler's). */
  signature: (version: number) => typeof DOUBLER_SIGNATURE = () => DOUBLER_SIGNATURE;
  /** What the probe of a version finds (default: rows independent, bit for bit). */
  evidence: (version: number) => ProbeEvidence = () => ({
    rows: 4,
    rowsIndependent: true,
    exact: true,
    maxAbsDiff: 0,
    tolerance: { absolute: 1e-5, relative: 1e-4 },
    difference: null,
    error: null,
  });
  /** A message to fail a version's load with, or undefined to load it. */
  loadFailure: ((version: number) => string | undefined) | undefined;
  onRun: ((thread: FakeWorkerThread, run: RunMessage) => void) | undefined;

  readonly transport: WorkerTransport = (init, listener) => {
    const thread = new FakeWorkerThread(init, listener, this);
    this.threads.push(thread);
    return thread;
  };

  /** Threads that have not exited. */
  alive(): FakeWorkerThread[] {
    return this.threads.filter((t) => t.alive);
  }

  /** The live thread of worker `workerId` (its latest incarnation). */
  of(workerId: string): FakeWorkerThread {
    const thread = this.alive().find((t) => t.init.workerId === workerId);
    if (!thread) throw new Error(`no live thread for ${workerId}`);
    return thread;
  }

  /** Every batch running on any live thread. */
  runningBatches(): { thread: FakeWorkerThread; run: RunMessage }[] {
    return this.alive().flatMap((thread) => thread.running.map((run) => ({ thread, run })));
  }
}

/** A clock the test moves by hand. */
export class ManualClock {
  monotonic = 1_000;
  epoch = 1_700_000_000_000;

  monotonicMs(): number {
    return this.monotonic;
  }

  epochMs(): number {
    return this.epoch;
  }

  advance(ms: number): void {
    this.monotonic += ms;
    this.epoch += ms;
  }
}
