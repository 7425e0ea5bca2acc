/**
 * The dynamic batcher's decision, kept apart from the runner's bookkeeping so that it
 * can be reasoned about and tested without threads or clocks: given the queue and the
 * pipeline, dispatch a batch of how many rows now, or wait (and until when).
 *
 * Sizing. A batch takes its share of the rows outstanding: that many rows spread over the
 * pipeline slots (workers × in-flight batches each), so every worker has its next batch
 * waiting when it finishes one. Under a backlog the share is `maxBatchSize`; with spare
 * capacity it is small, and nothing waits for a batch that cannot fill.
 *
 * "Outstanding" is the recent peak of queued plus running rows, not the current count.
 * A closed-loop caller (an actor, a benchmark requester) is outstanding for itself while
 * its answer travels back and it sends again, but the queue cannot see it then; sizing by
 * the current count would cut batches short while those rows are in transit, and the
 * short batches would then come back together and stay short.
 *
 * Waiting. A partial batch (below its share) is handed early, after `maxQueueDelayUs`,
 * only to an idle worker: a worker that is busy gains nothing from a half-empty batch
 * queued behind its current one, and flushing one there can split the callers into more,
 * smaller groups for good (seen while this policy was tuned).
 */
import type { Clock } from './stats/window.js';

export interface BatchInputs {
  readonly queuedRows: number;
  /** Recent peak of queued plus running rows (see `RecentPeak`). */
  readonly outstandingRows: number;
  /** Batches the serving workers hold at once. */
  readonly pipelineSlots: number;
  /** The arena's rows per slot (or the fixed batch). */
  readonly maxRows: number;
  readonly maxBatchSize: number;
  readonly preferredBatchSizes: readonly number[];
  /** The worker the batch would go to has nothing in flight. */
  readonly workerIdle: boolean;
  /** How long the oldest queued request has waited. */
  readonly oldestWaitedUs: number;
  readonly maxQueueDelayUs: number;
  /** Draining or stopping: send whatever is queued. */
  readonly flushAll: boolean;
}

export type BatchDecision =
  | { readonly kind: 'dispatch'; readonly rows: number }
  /** Wait until the queue holds `untilRows`, or until `flushInUs` passes (null: until a worker finishes). */
  | { readonly kind: 'wait'; readonly untilRows: number; readonly flushInUs: number | null };

export function decideBatch(i: BatchInputs): BatchDecision {
  const share = Math.ceil(i.outstandingRows / Math.max(1, i.pipelineSlots));
  const target = Math.max(1, Math.min(i.maxRows, i.maxBatchSize, share));
  const preferred = largestAtMost(i.preferredBatchSizes, Math.min(i.queuedRows, target));
  if (preferred !== undefined) return { kind: 'dispatch', rows: preferred };
  if (i.queuedRows >= target || i.flushAll) return { kind: 'dispatch', rows: target };
  const untilRows = Math.min(target, ...i.preferredBatchSizes.filter((p) => p > i.queuedRows));
  if (!i.workerIdle) return { kind: 'wait', untilRows, flushInUs: null };
  if (i.oldestWaitedUs >= i.maxQueueDelayUs) return { kind: 'dispatch', rows: target };
  return { kind: 'wait', untilRows, flushInUs: i.maxQueueDelayUs - i.oldestWaitedUs };
}

function largestAtMost(sizes: readonly number[], limit: number): number | undefined {
  let best: number | undefined;
  for (const size of sizes) if (size <= limit && (best === undefined || size > best)) best = size;
  return best;
}

/** The largest value seen over the last one to two periods: a cheap sliding maximum. */
export class RecentPeak {
  private current = 0;
  private previous = 0;
  private periodStart = -Infinity;

  constructor(
    private readonly periodMs = 50,
    private readonly clock: Clock = () => performance.now(),
  ) {}

  /** `nowMs` lets a caller that has read the clock share it. */
  observe(value: number, nowMs?: number): number {
    const now = nowMs ?? this.clock();
    if (now - this.periodStart >= this.periodMs) {
      // A period with no observation at all leaves nothing to remember.
      this.previous = now - this.periodStart >= 2 * this.periodMs ? 0 : this.current;
      this.current = 0;
      this.periodStart = now;
    }
    if (value > this.current) this.current = value;
    return Math.max(this.current, this.previous);
  }
}
