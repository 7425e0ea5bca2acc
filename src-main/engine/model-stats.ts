/**
 * One model's statistics: counters, rates over the window and latency histograms, written
 * only by the runner on the engine's thread. Its snapshot is computed from these and from
 * facts the runner passes in (versions, queue, plan), so that it holds no copy of them.
 */
import type { ServingPlan } from './signature.js';
import type { ModelSnapshot, QueueSnapshot } from './snapshot.js';
import { LatencyHistogram } from './stats/histogram.js';
import { WindowedCounter } from './stats/window.js';
import { LifetimeStatistics } from './version-statistics.js';

/** Power-of-two buckets of batch sizes, up to the largest batch the engine runs. */
const BATCH_SIZE_BUCKETS = Math.ceil(Math.log2(4096)) + 2;

export class ModelStats {
  readonly counts = {
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
  /** Cumulative counts and durations per version, for the statistics extension and Prometheus. */
  readonly lifetime = new LifetimeStatistics();
  private readonly batchSizeCounts = new Array<number>(BATCH_SIZE_BUCKETS).fill(0);
  private readonly requestRate: WindowedCounter;
  private readonly rowRate: WindowedCounter;
  private readonly batchRate: WindowedCounter;
  private readonly enqueueRate: WindowedCounter;
  private readonly queueLatency: LatencyHistogram;
  private readonly computeLatency: LatencyHistogram;
  private readonly totalLatency: LatencyHistogram;

  constructor(windowSeconds: number) {
    this.requestRate = new WindowedCounter(windowSeconds);
    this.rowRate = new WindowedCounter(windowSeconds);
    this.batchRate = new WindowedCounter(windowSeconds);
    this.enqueueRate = new WindowedCounter(windowSeconds);
    this.queueLatency = new LatencyHistogram(windowSeconds);
    this.computeLatency = new LatencyHistogram(windowSeconds);
    this.totalLatency = new LatencyHistogram(windowSeconds);
  }

  accepted(at: number): void {
    this.counts.accepted++;
    this.enqueueRate.add(1, at);
  }

  /** A request for `version` left the queue for a batch after `queuedMs`. */
  dispatched(version: number, queuedMs: number, now: number): void {
    this.queueLatency.record(queuedMs, 1, now);
    this.lifetime.dispatched(version, queuedMs);
  }

  answered(totalMs: number, now: number): void {
    this.totalLatency.record(totalMs, 1, now);
  }

  batchDone(rows: number, requests: number, answered: number, computeMs: number, now: number): void {
    this.counts.succeeded += answered;
    this.counts.batches++;
    this.counts.batchRows += rows;
    this.batchSizeCounts[Math.ceil(Math.log2(rows))]!++;
    this.computeLatency.record(computeMs, requests, now);
    this.requestRate.add(answered, now);
    this.rowRate.add(rows, now);
    this.batchRate.add(1, now);
  }

  /** The figures of the model's snapshot; `facts` are what the runner knows and this does not keep. */
  model(facts: {
    readonly plan: ServingPlan;
    readonly base: Pick<ModelSnapshot, 'name' | 'version' | 'sha256' | 'sizeBytes' | 'loadedAtMs' | 'signature' | 'versions' | 'swaps'>;
    readonly batching: ModelSnapshot['batching'];
    readonly queued: number;
    readonly running: number;
  }): ModelSnapshot {
    const c = this.counts;
    const buckets: { upTo: number; count: number }[] = [];
    const maxRows = facts.plan.maxRows;
    for (let i = 0; 2 ** i / 2 < maxRows; i++) buckets.push({ upTo: Math.min(2 ** i, maxRows), count: this.batchSizeCounts[i]! });
    return {
      ...facts.base,
      batching: facts.batching,
      requests: {
        accepted: c.accepted,
        succeeded: c.succeeded,
        failed: c.failed,
        timedOut: c.timedOut + c.queueTimedOut,
        aborted: c.aborted,
        retried: c.retried,
        queued: facts.queued,
        running: facts.running,
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

  /** The figures of the queue's snapshot that are counted here, beside the queue's own. */
  queue(
    facts: Omit<QueueSnapshot, 'rejected' | 'timedOut' | 'aborted' | 'enqueuePerSecond' | 'waitMs'> & { rejectedFull: number },
  ): QueueSnapshot {
    const { rejectedFull, ...queue } = facts;
    return {
      ...queue,
      rejected: {
        full: rejectedFull,
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
}
