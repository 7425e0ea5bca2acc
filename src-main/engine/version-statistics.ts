/**
 * Cumulative statistics per model version since the engine started, in the terms of
 * Triton's statistics extension (counts and total durations, never windows), so that a
 * scraper or a client can take differences between two readings. The windowed figures
 * the dashboard shows are in ModelStats; these never reset and never lose a request.
 *
 * Durations are kept in nanoseconds as plain numbers: 2^53 ns is over 104 days of summed
 * time per counter, and a sum that large stays exact to the microsecond.
 */
import type { EngineClock } from './clock.js';
import {
  AbortedError,
  InferenceFailedError,
  QueueDrainingError,
  QueueFullError,
  RateLimitedError,
  ShuttingDownError,
  WorkerCrashedError,
} from './errors.js';

/**
 * Why an accepted request failed, in Triton's failure reasons: REJECTED (a full queue, a
 * rate limit, a drain or a stop refused it), CANCELED (its caller aborted), BACKEND (the
 * run failed or its worker was lost), OTHER (its deadline or the queue's timeout passed).
 */
export type FailureReason = 'REJECTED' | 'CANCELED' | 'BACKEND' | 'OTHER';

function failureReason(error: Error | undefined): FailureReason {
  if (error instanceof QueueFullError || error instanceof RateLimitedError) return 'REJECTED';
  if (error instanceof QueueDrainingError || error instanceof ShuttingDownError) return 'REJECTED';
  if (error instanceof AbortedError) return 'CANCELED';
  if (error instanceof InferenceFailedError || error instanceof WorkerCrashedError) return 'BACKEND';
  return 'OTHER';
}

export interface DurationStat {
  count: number;
  ns: number;
}

export interface BatchSizeStatistics {
  readonly batchSize: number;
  readonly computeInput: DurationStat;
  readonly computeInfer: DurationStat;
  readonly computeOutput: DurationStat;
}

export interface VersionStatistics {
  readonly version: number;
  /** Wall-clock ms of the last request answered or failed; 0 when none was. */
  readonly lastInferenceMs: number;
  /** Rows answered (a request of 64 rows counts 64). */
  readonly inferenceCount: number;
  /** Model runs that answered at least one request. */
  readonly executionCount: number;
  readonly success: DurationStat;
  /** Accepted requests that ended in an error (failed, timed out, aborted, lost), with the time until then. */
  readonly fail: DurationStat;
  /** The failures by reason. */
  readonly failures: Readonly<Record<FailureReason, number>>;
  readonly queue: DurationStat;
  /** Gathering a batch's inputs into its slot (a copy into the arena, or the tensors for a transfer). */
  readonly computeInput: DurationStat;
  /** The run itself, as the worker timed it. */
  readonly computeInfer: DurationStat;
  /** Splitting the outputs into each request's answer. */
  readonly computeOutput: DurationStat;
  /** Per batch size run, ascending. */
  readonly batches: readonly BatchSizeStatistics[];
}

const NS_PER_MS = 1e6;

function stat(): DurationStat {
  return { count: 0, ns: 0 };
}

function add(target: DurationStat, count: number, ms: number): void {
  target.count += count;
  target.ns += Math.round(ms * NS_PER_MS);
}

interface MutableBatchStats {
  readonly computeInput: DurationStat;
  readonly computeInfer: DurationStat;
  readonly computeOutput: DurationStat;
}

class VersionCounters {
  lastInferenceMs = 0;
  inferenceCount = 0;
  executionCount = 0;
  readonly success = stat();
  readonly fail = stat();
  readonly failures: Record<FailureReason, number> = { REJECTED: 0, CANCELED: 0, BACKEND: 0, OTHER: 0 };
  readonly queue = stat();
  readonly computeInput = stat();
  readonly computeInfer = stat();
  readonly computeOutput = stat();
  readonly bySize = new Map<number, MutableBatchStats>();

  constructor(readonly version: number) {}

  snapshot(): VersionStatistics {
    const copy = (s: DurationStat): DurationStat => ({ count: s.count, ns: s.ns });
    return {
      version: this.version,
      lastInferenceMs: this.lastInferenceMs,
      inferenceCount: this.inferenceCount,
      executionCount: this.executionCount,
      success: copy(this.success),
      fail: copy(this.fail),
      failures: { ...this.failures },
      queue: copy(this.queue),
      computeInput: copy(this.computeInput),
      computeInfer: copy(this.computeInfer),
      computeOutput: copy(this.computeOutput),
      batches: [...this.bySize.entries()]
        .sort(([a], [b]) => a - b)
        .map(([batchSize, s]) => ({
          batchSize,
          computeInput: copy(s.computeInput),
          computeInfer: copy(s.computeInfer),
          computeOutput: copy(s.computeOutput),
        })),
    };
  }
}

/** One model's cumulative statistics, by version. Written on the engine's thread only. */
export class LifetimeStatistics {
  private readonly versions = new Map<number, VersionCounters>();

  private of(version: number): VersionCounters {
    let counters = this.versions.get(version);
    if (!counters) {
      counters = new VersionCounters(version);
      this.versions.set(version, counters);
    }
    return counters;
  }

  /** A request left the queue for a batch after `queuedMs`. */
  dispatched(version: number, queuedMs: number): void {
    add(this.of(version).queue, 1, queuedMs);
  }

  /** A request settled: answered when there is no `error`. */
  settled(
    request: { readonly version: number; readonly rows: number; readonly acceptedAt: number },
    error: Error | undefined,
    clock: EngineClock,
  ): void {
    const counters = this.of(request.version);
    add(error ? counters.fail : counters.success, 1, clock.monotonicMs() - request.acceptedAt);
    if (error) counters.failures[failureReason(error)]++;
    else counters.inferenceCount += request.rows;
    counters.lastInferenceMs = clock.epochMs();
  }

  /** A run of `rows` rows answered `answered` requests after its input, run and output phases took these times. */
  batchDone(version: number, rows: number, answered: number, phases: { inputMs: number; inferMs: number; outputMs: number }): void {
    if (answered === 0) return; // every request had ended early: nothing was executed for anyone
    const counters = this.of(version);
    counters.executionCount++;
    // Per request, as Triton counts them: each answered request spent the whole phase.
    add(counters.computeInput, answered, phases.inputMs * answered);
    add(counters.computeInfer, answered, phases.inferMs * answered);
    add(counters.computeOutput, answered, phases.outputMs * answered);
    let size = counters.bySize.get(rows);
    if (!size) {
      size = { computeInput: stat(), computeInfer: stat(), computeOutput: stat() };
      counters.bySize.set(rows, size);
    }
    add(size.computeInput, 1, phases.inputMs);
    add(size.computeInfer, 1, phases.inferMs);
    add(size.computeOutput, 1, phases.outputMs);
  }

  /** Every version with a count, and each of `loaded` with zeros where it has none yet (as Triton lists them), ascending. */
  snapshot(loaded: readonly number[] = []): VersionStatistics[] {
    const counters = [...this.versions.values()];
    for (const version of loaded) if (!this.versions.has(version)) counters.push(new VersionCounters(version));
    return counters.sort((a, b) => a.version - b.version).map((v) => v.snapshot());
  }
}
