/**
 * The dynamic batcher of one model: while a worker has room and the batching policy
 * (batch-policy.ts) says go, gather the oldest requests into a slot the pool lends, and
 * run them; otherwise wait for enough rows or for the flush the policy schedules.
 */
import type { ArenaPool, SlotSource } from './arena.js';
import type { ByteArena, RunTensor } from './byte-arena.js';
import { concatInputs, copyInputs, gatherBatch, gatherGroup, packRequest } from './batch-assembly.js';
import { decideBatch, RecentPeak } from './batch-policy.js';
import type { BoundedQueue } from './bounded-queue.js';
import type { EngineClock } from './clock.js';
import type { BatchingConfig } from './config.js';
import type { TensorData } from './dtypes.js';
import { FlushTimer } from './flush-timer.js';
import type { ModelStats } from './model-stats.js';
import type { InferRequest } from './request.js';
import type { RunningRequests } from './running-requests.js';
import { isPackedPlan, type RowPlan, type ServingPlan } from './signature.js';
import { SlotViewCache } from './slot-view-cache.js';
import type { InflightBatch, WorkerHandle, WorkerPool } from './worker-pool.js';

/**
 * How deep a grouped batch looks past the head for requests of its shape: enough for
 * several full batches, and a bound on the work per batch when the queue is long.
 */
const GROUP_SCAN_LIMIT = 1024;

export interface RunnerBatch extends InflightBatch {
  readonly requests: InferRequest[];
  /** Time spent gathering its inputs into the slot (the statistics' compute_input). */
  readonly inputMs: number;
}

export interface BatcherContext {
  readonly queue: BoundedQueue<InferRequest>;
  readonly pool: WorkerPool<RunnerBatch>;
  readonly running: RunningRequests;
  readonly stats: ModelStats;
  readonly clock: EngineClock;
  batching(): BatchingConfig;
  /** Paused or stopped: nothing is dispatched. */
  holding(): boolean;
  /** Draining or stopping: what is queued goes now, in batches as full as it allows. */
  flushingAll(): boolean;
}

export class Batcher {
  private readonly views = new SlotViewCache();
  private readonly flush = new FlushTimer(() => this.pump());
  /**
   * Rows the queue must hold before a new arrival can change the batcher's decision; until
   * then an arrival only queues (Infinity: nothing can change until a worker has room or the
   * queue is resumed, and those call `pump` themselves).
   */
  private waitingForRows = 0;
  private nextBatchId = 1;
  /** Queued plus running rows, at their recent peak: what batches are sized for. */
  private readonly outstanding = new RecentPeak();

  constructor(private readonly context: BatcherContext) {}

  /** Form and dispatch batches while workers have room and the batching policy allows. */
  pump(): void {
    const { queue, pool } = this.context;
    this.waitingForRows = Infinity;
    if (this.context.holding()) return;
    for (let head = queue.peek(); head; head = queue.peek()) {
      // A batch runs one version: that of the oldest request (requests keep the version they were validated for).
      const handle = pool.pick(head.version);
      if (!handle) return;
      const plan = pool.served(head.version).plan;
      const rows = this.nextBatchRows(plan, handle.inflightCount === 0, head);
      if (rows === undefined) return; // it set waitingForRows
      this.dispatch(handle, head.version, plan, rows);
    }
    this.waitingForRows = 0;
  }

  /** A request was queued: pump only if it can change the decision. */
  arrived(): void {
    if (this.context.queue.rows >= this.waitingForRows) this.pump();
  }

  /**
   * Callers of a finished batch are about to be answered and, in a closed loop, to send
   * again: the batch they come back to is sized with them counted.
   */
  noteAnswering(nowMs: number): void {
    this.outstanding.observe(this.context.queue.rows + this.context.running.rows, nowMs);
  }

  /** The views of a finished batch's outputs in its slot (row plans: the slot is in an arena). */
  outputViews(batch: RunnerBatch, plan: RowPlan): TensorData[] {
    return this.views.of(batch.arena as ArenaPool, plan).outputs[batch.slot]!;
  }

  cancel(): void {
    this.flush.cancel();
  }

  /** Rows for the next batch, or undefined to wait for more (a flush is scheduled if one helps). */
  private nextBatchRows(plan: ServingPlan, workerIdle: boolean, head: InferRequest): number | undefined {
    if (plan.mode !== 'dynamic' && plan.mode !== 'grouped') return plan.maxRows;
    const { queue, running, pool, clock } = this.context;
    const batching = this.context.batching();
    const queuedRows = queue.rows;
    const now = clock.monotonicMs();
    const decision = decideBatch({
      queuedRows,
      outstandingRows: this.outstanding.observe(queuedRows + running.rows, now),
      pipelineSlots: pool.pipelineDepth,
      maxRows: plan.maxRows,
      maxBatchSize: batching.maxBatchSize,
      preferredBatchSizes: batching.preferredBatchSizes,
      workerIdle,
      oldestWaitedUs: (now - head.acceptedAt) * 1000,
      maxQueueDelayUs: batching.maxQueueDelayUs,
      flushAll: this.context.flushingAll(),
    });
    if (decision.kind === 'dispatch') return decision.rows;
    this.waitingForRows = decision.untilRows;
    if (decision.flushInUs !== null) this.flush.schedule(decision.flushInUs);
    return undefined;
  }

  /** Gather up to `targetRows` of `version`'s requests into a slot the pool lends `handle`, and run them. */
  private dispatch(handle: WorkerHandle<RunnerBatch>, version: number, plan: ServingPlan, targetRows: number): void {
    const { queue, running, stats, clock } = this.context;
    this.context.pool.run(handle, version, (source: SlotSource, slot: number) => {
      const gatherStart = clock.monotonicMs();
      const { requests, rows } =
        plan.mode === 'grouped' ? gatherGroup(queue, targetRows, GROUP_SCAN_LIMIT) : gatherBatch(queue, version, targetRows);
      let inputs: RunTensor[] | undefined;
      if (isPackedPlan(plan)) {
        const arena = source as ByteArena; // a packed plan's slots are a byte arena's (worker-handle.ts attach)
        const packer = arena.packer(slot);
        inputs =
          plan.mode === 'direct' ? packRequest(plan.inputs, requests[0]!, packer) : concatInputs(plan.inputs, requests, rows, packer);
        arena.setUsed(slot, inputs);
      } else {
        const arena = source as ArenaPool; // a row plan's slots are an arena's (worker-handle.ts attach)
        copyInputs(this.views.of(arena, plan).inputs[slot]!, requests);
        arena.setUsed(slot, rows);
      }
      const now = clock.monotonicMs();
      running.start(requests, now);
      for (const request of requests) stats.dispatched(version, now - request.acceptedAt, now);
      const inputMs = now - gatherStart;
      return { id: this.nextBatchId++, version, slot, rows, dispatchedAt: now, requests, arena: source, inputs, inputMs };
    });
  }
}
