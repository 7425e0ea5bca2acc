/**
 * The engine's facts in the shapes Triton's clients read: model metadata, the statistics
 * extension's model_stats and the model configuration. Field names are Triton's where
 * they mean the same; what the engine has and Triton does not is under `parameters`
 * (Triton's own place for extra settings), never under a Triton name with another meaning.
 */
import type { BatchingConfig, ModelServingConfig, ModelSignature, ServingPlan, TensorSpec, VersionStatistics } from '../engine/index.js';
import { configTypeOf, datatypeOf } from './datatypes.js';
import type { ModelMetadata, ModelStatisticsJson, TensorMetadata } from './protocol-types.js';

export const PLATFORM = 'onnxruntime_onnx';

/** Declared dims, -1 for a symbolic one (a dim the request gives). */
function dimsOf(spec: TensorSpec): number[] {
  return spec.shape.map((d) => (typeof d === 'number' ? d : -1));
}

function tensorMetadata(spec: TensorSpec): TensorMetadata {
  return { name: spec.name, datatype: datatypeOf(spec.dtype), shape: dimsOf(spec) };
}

export function modelMetadata(name: string, versions: readonly number[], signature: ModelSignature): ModelMetadata {
  return {
    name,
    versions: versions.map(String),
    platform: PLATFORM,
    inputs: signature.inputs.map(tensorMetadata),
    outputs: signature.outputs.map(tensorMetadata),
  };
}

export function statisticsJson(name: string, stats: VersionStatistics): ModelStatisticsJson {
  const none = { count: 0, ns: 0 };
  return {
    name,
    version: String(stats.version),
    last_inference: stats.lastInferenceMs,
    inference_count: stats.inferenceCount,
    execution_count: stats.executionCount,
    inference_stats: {
      success: stats.success,
      fail: stats.fail,
      queue: stats.queue,
      compute_input: stats.computeInput,
      compute_infer: stats.computeInfer,
      compute_output: stats.computeOutput,
      cache_hit: none, // there is no response cache
      cache_miss: none,
    },
    batch_stats: stats.batches.map((b) => ({
      batch_size: b.batchSize,
      compute_input: b.computeInput,
      compute_infer: b.computeInfer,
      compute_output: b.computeOutput,
    })),
  };
}

/** Whether requests are batched along dim 0, which Triton says with max_batch_size > 0 and dims without it. */
function batched(plan: ServingPlan): boolean {
  return plan.mode === 'dynamic' || plan.mode === 'grouped';
}

/**
 * The model configuration in Triton's field names. A batched model's `dims` leave out the
 * batch dimension and `max_batch_size` is the most rows a run takes, as in Triton; an
 * unbatched one has max_batch_size 0 and full dims.
 */
export function modelConfigJson(
  name: string,
  plan: ServingPlan,
  signature: ModelSignature,
  settings: Pick<ModelServingConfig, 'batching' | 'queue' | 'workers'>,
): Record<string, unknown> {
  const isBatched = batched(plan);
  const tensor = (spec: TensorSpec) => ({
    name: spec.name,
    data_type: configTypeOf(spec.dtype),
    dims: isBatched ? dimsOf(spec).slice(1) : dimsOf(spec),
  });
  const batching: BatchingConfig = settings.batching;
  return {
    name,
    platform: PLATFORM,
    backend: 'onnxruntime',
    max_batch_size: isBatched ? Math.min(plan.maxRows, batching.maxBatchSize) : 0,
    input: signature.inputs.map(tensor),
    output: signature.outputs.map(tensor),
    ...(isBatched
      ? {
          dynamic_batching: {
            preferred_batch_size: batching.preferredBatchSizes,
            max_queue_delay_microseconds: batching.maxQueueDelayUs,
            default_queue_policy: {
              timeout_action: 'REJECT',
              default_timeout_microseconds: settings.queue.queueTimeoutMs * 1000,
              max_queue_size: settings.queue.capacity,
            },
          },
        }
      : {}),
    instance_group: [{ name: `${name}_cpu`, count: settings.workers.count, kind: 'KIND_CPU' }],
    parameters: {
      batching_mode: { string_value: plan.mode },
      batching_reason: { string_value: plan.decision.reason },
      intra_op_threads: { string_value: String(settings.workers.intraOpThreads) },
      queue_full_policy: { string_value: settings.queue.fullPolicy },
    },
  };
}
