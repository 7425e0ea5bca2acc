/**
 * What happens to a batch's requests when it comes back: answered with their rows of the
 * outputs, or, when its worker was lost, each either retried once or rejected. The
 * runner wires these to its queue and counters; kept apart so they read (and are tested)
 * without a pool.
 */
import { groupedOutputs, scatterOutputs } from './batch-assembly.js';
import type { RunnerBatch } from './batcher.js';
import type { TensorData } from './dtypes.js';
import type { ModelStats } from './model-stats.js';
import type { InferRequest, InferResult } from './request.js';
import type { RunningRequests } from './running-requests.js';
import type { PlannedTensor, RowPlan, ServingPlan } from './signature.js';
import type { WireTensor } from './worker/protocol.js';

/** The first run and one retry after a worker loss. */
export const MAX_ATTEMPTS = 2;

type Counters = { running: RunningRequests; stats: ModelStats };

/** Fulfil one request of a finished batch with its tensors, and count it. */
function answer(
  request: InferRequest,
  outputs: InferResult['outputs'],
  batch: RunnerBatch,
  computeMs: number,
  nowMs: number,
  counters: Counters,
): void {
  counters.running.stop(request);
  const totalMs = nowMs - request.acceptedAt;
  counters.stats.answered(totalMs, nowMs);
  request.fulfil({
    outputs,
    modelVersion: batch.version,
    batchRows: batch.rows,
    timings: { queueMs: request.dispatchedAt - request.acceptedAt, computeMs, totalMs },
  });
}

/**
 * Answer every unsettled request of a finished batch with its rows of `outputs` (a slot's
 * output views, or a grouped run's tensors); returns how many were answered.
 */
export function answerBatch(
  batch: RunnerBatch,
  specs: readonly PlannedTensor[],
  outputs: TensorData[],
  computeMs: number,
  nowMs: number,
  counters: Counters,
): number {
  let answered = 0;
  scatterOutputs(outputs, specs, batch.requests, (request, tensors) => {
    answered++;
    answer(request, tensors, batch, computeMs, nowMs, counters);
  });
  counters.stats.batchDone(batch.rows, batch.requests.length, answered, computeMs, nowMs);
  return answered;
}

/**
 * Answer a direct plan's one request with the tensors onnxruntime returned, shapes and all
 * (views of its slot, or transferred); returns how many were answered.
 */
export function answerDirect(
  batch: RunnerBatch,
  outputs: readonly WireTensor[],
  computeMs: number,
  nowMs: number,
  counters: Counters,
): number {
  let answered = 0;
  for (const request of batch.requests) {
    if (request.settled) continue;
    answered++;
    const tensors: InferResult['outputs'] = {};
    const sinks = request.options.outputSinks;
    for (const t of outputs) {
      const sink = sinks?.[t.name];
      let data = t.data;
      // A sink takes the output where it lies, once. Otherwise one in the slot is copied out
      // (the slot is lent to the next run); one transferred from the thread is the run's own.
      if (sink && !Array.isArray(data)) {
        sink(data);
        data = data.subarray(0, 0);
      } else if (!Array.isArray(data) && data.buffer instanceof SharedArrayBuffer) data = data.slice();
      tensors[t.name] = { data, dims: [...t.dims], dtype: t.dtype };
    }
    answer(request, tensors, batch, computeMs, nowMs, counters);
  }
  counters.stats.batchDone(batch.rows, batch.requests.length, answered, computeMs, nowMs);
  return answered;
}

/** Answer a grouped batch's requests with their rows of each output (how many were answered); a message if an output cannot be split. */
export function answerGrouped(
  batch: RunnerBatch,
  outputs: readonly WireTensor[],
  computeMs: number,
  nowMs: number,
  counters: Counters,
): number | string {
  const split = groupedOutputs(outputs, batch.rows);
  if (typeof split === 'string') return split;
  return answerBatch(batch, split.specs, split.data, computeMs, nowMs, counters);
}

/**
 * Answer a finished batch as its plan says: a direct run's tensors as returned, a grouped
 * run's split along dim 0, a row plan's from its slot's output views (`views`). Returns
 * how many were answered, or why the outputs could not be split.
 */
export function answerFinished(
  batch: RunnerBatch,
  plan: ServingPlan,
  outputs: readonly WireTensor[] | undefined,
  views: (plan: RowPlan) => TensorData[],
  computeMs: number,
  nowMs: number,
  counters: Counters,
): number | string {
  if (plan.mode === 'direct') return answerDirect(batch, outputs ?? [], computeMs, nowMs, counters);
  if (plan.mode === 'grouped') return answerGrouped(batch, outputs ?? [], computeMs, nowMs, counters);
  return answerBatch(batch, plan.outputs, views(plan), computeMs, nowMs, counters);
}

/**
 * The unsettled requests of a lost worker's batches: those with an attempt left (when
 * `mayRetry`) are returned in their original order, the rest rejected with `lostError`.
 */
export function takeBackLost(
  batches: readonly RunnerBatch[],
  mayRetry: boolean,
  lostError: () => Error,
  counters: Counters,
): InferRequest[] {
  const retry: InferRequest[] = [];
  for (const batch of batches) {
    for (const request of batch.requests) {
      if (request.settled) continue;
      counters.running.stop(request);
      if (mayRetry && request.attempts < MAX_ATTEMPTS) retry.push(request);
      else {
        counters.stats.counts.failed++;
        request.reject(lostError());
      }
    }
  }
  return retry;
}
