/**
 * The engine's statistics as plain JSON: what `Engine.snapshot()` returns, what the
 * dashboard draws and what `/api/snapshot` serves. Rates are per second over the last
 * `windowSeconds`; latency percentiles are given for the window and for the lifetime.
 */
import type { ArenaStats } from './arena.js';
import type { EngineEvent } from './events.js';
import type { LatencySummary } from './stats/histogram.js';
import type { LoopDelaySummary } from './stats/loop-delay.js';
import type { ModelSignature } from './signature.js';
import type { SwapRecord, VersionSnapshot } from './model-runner.js';
import type { WorkerStats } from './worker-pool.js';

export interface QueueSnapshot {
  name: string;
  model: string;
  depth: number;
  rows: number;
  capacity: number;
  highWater: number;
  paused: boolean;
  draining: boolean;
  waitingForRoom: number;
  policy: { fullPolicy: 'reject' | 'wait'; fullWaitTimeoutMs: number; maxWaiters: number; queueTimeoutMs: number };
  rateLimit: {
    perQueue: { ratePerSecond: number; burst: number } | null;
    perClient: { ratePerSecond: number; burst: number } | null;
    trackedClients: number;
  };
  enqueued: number;
  dequeued: number;
  rejected: { full: number; rateLimited: number; invalid: number; draining: number; shuttingDown: number };
  timedOut: number;
  aborted: number;
  enqueuePerSecond: number;
  waitMs: LatencySummary;
}

export interface ModelSnapshot {
  name: string;
  version: number;
  sha256: string;
  sizeBytes: number;
  loadedAtMs: number;
  signature: ModelSignature;
  /** Loaded versions: active, warm (kept for rollback) and draining (finishing their requests). */
  versions: VersionSnapshot[];
  /** The latest swaps, oldest first. */
  swaps: SwapRecord[];
  batching: { mode: 'dynamic' | 'unbatched'; maxBatchRows: number; maxQueueDelayUs: number; preferredBatchSizes: number[] };
  requests: {
    accepted: number;
    succeeded: number;
    failed: number;
    timedOut: number;
    aborted: number;
    retried: number;
    queued: number;
    running: number;
  };
  requestsPerSecond: number;
  rowsPerSecond: number;
  batches: number;
  batchesPerSecond: number;
  /** Batch sizes in rows: counts by power-of-two bucket upper bound (1, 2, 4, ... maxBatchRows). */
  batchSizeBuckets: { upTo: number; count: number }[];
  meanBatchRows: number;
  latencyMs: { queue: LatencySummary; compute: LatencySummary; total: LatencySummary };
  lifetimeLatencyMs: { queue: LatencySummary; compute: LatencySummary; total: LatencySummary };
}

export interface EngineSnapshot {
  timeMs: number;
  uptimeMs: number;
  state: 'starting' | 'running' | 'stopping' | 'stopped';
  windowSeconds: number;
  eventLoopDelayMs: LoopDelaySummary;
  models: ModelSnapshot[];
  queues: QueueSnapshot[];
  workers: WorkerStats[];
  arenas: ArenaStats[];
  arenaTotals: { capacityBytes: number; usedBytes: number; highWaterBytes: number };
  recentEvents: EngineEvent[];
}
