/**
 * Per-model serving configuration, validated with zod. The same schema validates a
 * model repository's config.json and the dashboard's commands, so a setting means the
 * same thing wherever it is set. Unknown keys are errors: a typo must not silently
 * fall back to a default.
 */
import { z } from 'zod';
import { MAX_BATCH_ROWS, RANGES, type IntRange } from '../../src-preload/limits.js';
import { ConfigError } from './errors.js';

const int = (min: number, max: number) => z.number().int().min(min).max(max);
const ranged = (range: IntRange) => int(range.min, range.max);

export { MAX_BATCH_ROWS };
/** What one model version may reserve for serving (arenas and staging over all its workers) unless its config says otherwise. */
export const DEFAULT_MEMORY_BUDGET_BYTES = 2 * 1024 ** 3;

/** Room for a request of 256K float32 elements, or a batch of such requests' outputs. */
export const DEFAULT_VARIABLE_SLOT_BYTES = 1024 ** 2;

export const BatchingConfigSchema = z.strictObject({
  /** auto: batch along dim 0 only on the probe's evidence; dim0: whenever the shapes allow; none: one request per run. */
  mode: z.enum(['auto', 'dim0', 'none']).default('auto'),
  /** Rows per batch at most; capped by a fixed batch dimension. */
  maxBatchSize: ranged(RANGES.maxBatchSize).default(128),
  /** How long the oldest request may wait for a fuller batch while a worker is free. */
  maxQueueDelayUs: ranged(RANGES.maxQueueDelayUs).default(500),
  /** Batch sizes to prefer when more than one is possible, as Triton's dynamic batcher. */
  preferredBatchSizes: z.array(int(1, MAX_BATCH_ROWS)).max(16).default([]),
});

export const QueueConfigSchema = z.strictObject({
  /** Requests the queue holds at most. There is no unbounded queue. */
  capacity: ranged(RANGES.queueCapacity).default(4096),
  /** When full: reject at once, or wait up to `fullWaitTimeoutMs` for room. */
  fullPolicy: z.enum(['reject', 'wait']).default('reject'),
  fullWaitTimeoutMs: ranged(RANGES.fullWaitTimeoutMs).default(1000),
  /** Callers waiting for room at most (policy "wait"); beyond it they are rejected at once. */
  maxWaiters: int(1, 1_000_000).default(1024),
  /** A request still queued after this long is rejected with QueueTimeoutError; 0 disables it. */
  queueTimeoutMs: ranged(RANGES.queueTimeoutMs).default(30_000),
});

export const TokenBucketSchema = z.strictObject({
  ratePerSecond: z.number().positive().max(1e9),
  burst: int(1, 1e9),
});

export const RateLimitConfigSchema = z.strictObject({
  perQueue: TokenBucketSchema.optional(),
  perClient: TokenBucketSchema.optional(),
  /** Client buckets remembered at most; the least recently used is forgotten first. */
  maxClients: int(1, 1_000_000).default(10_000),
});

export const WorkerConfigSchema = z.strictObject({
  count: ranged(RANGES.workerCount).default(2),
  intraOpThreads: int(1, 64).default(1),
  /** Batches handed to one worker before it finishes the first: 2 keeps it busy while the next batch is posted. */
  maxInflightBatches: int(1, 8).default(2),
  /**
   * Bytes of each of a worker's shared-memory slots when the model's shapes vary per
   * request (no rows to cut slots into): a run packs its tensors into its slot, and one the
   * slot cannot hold moves by transfer. 0 moves every tensor by transfer.
   */
  variableSlotBytes: int(0, 2 ** 30).default(DEFAULT_VARIABLE_SLOT_BYTES),
  heartbeatIntervalMs: int(10, 60_000).default(250),
  /** An idle worker missing this many heartbeats in a row is declared hung. */
  missedHeartbeats: int(2, 100).default(4),
  /** A batch running longer than this declares its worker hung. */
  batchTimeoutMs: int(100, 3_600_000).default(30_000),
  startupTimeoutMs: int(1, 600_000).default(30_000),
  restartBackoffInitialMs: int(1, 60_000).default(100),
  restartBackoffMaxMs: int(1, 600_000).default(10_000),
});

export const ModelServingConfigSchema = z.strictObject({
  batching: BatchingConfigSchema.prefault({}),
  queue: QueueConfigSchema.prefault({}),
  rateLimit: RateLimitConfigSchema.prefault({}),
  workers: WorkerConfigSchema.prefault({}),
  /** Reject inputs holding NaN or Infinity (float dtypes only). */
  checkFinite: z.boolean().default(false),
  /** Bytes a version may reserve to be served (arena slots x rows x row bytes, plus staging, over all workers). */
  memoryBudgetBytes: int(1024 * 1024, 2 ** 50).default(DEFAULT_MEMORY_BUDGET_BYTES),
});

export type BatchingConfig = z.infer<typeof BatchingConfigSchema>;
export type QueueConfig = z.infer<typeof QueueConfigSchema>;
export type RateLimitConfig = z.infer<typeof RateLimitConfigSchema>;
export type TokenBucketConfig = z.infer<typeof TokenBucketSchema>;
export type WorkerConfig = z.infer<typeof WorkerConfigSchema>;
export type ModelServingConfig = z.infer<typeof ModelServingConfigSchema>;
export type ModelServingConfigInput = z.input<typeof ModelServingConfigSchema>;

export function parseServingConfig(input: unknown, where = 'model config'): ModelServingConfig {
  const result = ModelServingConfigSchema.safeParse(input ?? {});
  if (!result.success) throw new ConfigError(`${where}: ${z.prettifyError(result.error)}`);
  return result.data;
}
