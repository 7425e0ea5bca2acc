/**
 * The runner's settings and queue as its snapshot shows them: pure views of what the
 * runner holds, for ModelStats to complete with its counters.
 */
import type { EventLog } from './events.js';
import type { BoundedQueue, Queueable } from './bounded-queue.js';
import type { BatchingConfig, RateLimitConfig } from './config.js';
import type { ModelStats } from './model-stats.js';
import type { ModelSnapshot } from './snapshot.js';
import type { ServingPlan } from './signature.js';

/** The batching in force: a dynamic plan's arena caps the configured batch size. */
export function batchingView(plan: ServingPlan, batching: BatchingConfig): ModelSnapshot['batching'] {
  return {
    mode: plan.mode,
    maxBatchRows: plan.mode === 'dynamic' || plan.mode === 'grouped' ? Math.min(plan.maxRows, batching.maxBatchSize) : plan.maxRows,
    maxQueueDelayUs: batching.maxQueueDelayUs,
    preferredBatchSizes: [...batching.preferredBatchSizes],
    decision: plan.decision,
  };
}

export interface QueueState {
  readonly model: string;
  readonly paused: boolean;
  readonly draining: boolean;
  readonly rateLimit: RateLimitConfig;
  readonly trackedClients: number;
}

/** What the queue and the runner know of the queue; ModelStats adds the rejections and waits it counts. */
export function queueFacts(queue: BoundedQueue<Queueable>, state: QueueState): Parameters<ModelStats['queue']>[0] {
  const policy = queue.policy;
  return {
    name: queue.name,
    model: state.model,
    depth: queue.depth,
    rows: queue.rows,
    capacity: queue.capacity,
    highWater: queue.highWater,
    paused: state.paused,
    draining: state.draining,
    waitingForRoom: queue.waiting,
    policy: {
      fullPolicy: policy.fullPolicy,
      fullWaitTimeoutMs: policy.fullWaitTimeoutMs,
      maxWaiters: policy.maxWaiters,
      queueTimeoutMs: policy.queueTimeoutMs,
    },
    rateLimit: {
      perQueue: state.rateLimit.perQueue ?? null,
      perClient: state.rateLimit.perClient ?? null,
      trackedClients: state.trackedClients,
    },
    enqueued: queue.counters.enqueued,
    dequeued: queue.counters.dequeued,
    rejectedFull: queue.counters.rejectedFull,
  };
}

/** The events of a version that started serving: how it is served, and whether and why it is batched. */
export function announceLoaded(events: EventLog, model: string, version: number, plan: ServingPlan, workers: number): void {
  events.emit(
    'info',
    'model-loaded',
    `model "${model}" version ${version} serving (${plan.mode}, up to ${plan.maxRows} rows per run, ${workers} workers)`,
    { model },
  );
  // Not batching a model the operator meant to batch, or whose shapes allowed it, is worth a look.
  const { decision } = plan;
  const level = !decision.batched && (decision.evidence !== null || decision.mode === 'dim0') ? 'warn' : 'info';
  events.emit(level, 'batching-decided', `model "${model}" version ${version}: ${decision.reason}`, { model });
}

/** A new maxBatchSize must fit the plan: arenas and validation are sized for the rows the model started with. */
export function checkBatchingFits(plan: ServingPlan, batching: BatchingConfig): void {
  if (batching.maxBatchSize > plan.maxRows && (plan.mode === 'dynamic' || plan.mode === 'grouped'))
    throw new RangeError(`maxBatchSize ${batching.maxBatchSize} exceeds the plan's ${plan.maxRows} rows; reload the model to grow it`);
}
