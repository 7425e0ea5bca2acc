/**
 * The engine's statistics as plain JSON: what `Engine.snapshot()` returns, what the
 * dashboard draws and what `/api/snapshot` serves. Rates are per second over the last
 * `windowSeconds`; latency percentiles are given for the window and for the lifetime.
 */
import type { ArenaStats } from './arena.js';
import type { EngineEvent } from './events.js';
import type { LatencySummary } from './stats/histogram.js';
import type { LoopDelaySummary } from './stats/loop-delay.js';
import type { BatchingDecision, ModelSignature, ServingPlan } from './signature.js';

export type SwapKind = 'load' | 'activate' | 'rollback' | 'follow-latest' | 'reload';

/** One change of the active version, for the swap history. */
export interface SwapRecord {
  readonly from: number | null;
  readonly to: number;
  readonly kind: SwapKind;
  readonly startedAtMs: number;
  /** Session creation on the slowest worker (0 when the version was already warm). */
  readonly loadMs: number;
  /** From the call to the moment new requests go to the new version. */
  readonly totalMs: number;
  readonly ok: boolean;
  readonly error: string | null;
}

export interface VersionSnapshot {
  version: number;
  state: 'active' | 'warm' | 'draining';
  sha256: string;
  sizeBytes: number;
  loadedAtMs: number;
  loadMs: number;
  /** Requests accepted for this version and not yet answered. */
  pendingRequests: number;
}

export type WorkerState = 'starting' | 'ready' | 'degraded' | 'dead' | 'retiring' | 'stopped';

export interface WorkerStats {
  id: string;
  model: string;
  state: WorkerState;
  threadId: number | null;
  incarnation: number;
  restarts: number;
  inflightBatches: number;
  batches: number;
  rows: number;
  busyMs: number;
  /** Share of wall time spent computing over the stats window, 0..1. */
  busyFraction: number;
  heartbeatAgeMs: number | null;
  uptimeMs: number;
  /** Model versions loaded in this worker. */
  versions: number[];
  /** True while the worker creates a session (it takes no batch meanwhile). */
  loading: boolean;
  lastError: string | null;
}

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
  batching: {
    /** dynamic: batched along dim 0 in arenas; grouped: batched along dim 0 with requests of the same shape, by transfer; unbatched: one request per run, fixed rows; direct: one request per run, shapes as declared. */
    mode: ServingPlan['mode'];
    maxBatchRows: number;
    maxQueueDelayUs: number;
    preferredBatchSizes: number[];
    /** Whether and why it is batched, with the probe's evidence when there was one. */
    decision: BatchingDecision;
  };
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
