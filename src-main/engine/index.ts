/**
 * Switchboard's inference engine. See README.md ("Engine API") for a walkthrough.
 *
 *   const engine = new Engine();
 *   const policy = await engine.loadModel({ name: 'policy', source: 'model.onnx' });
 *   const { outputs } = await policy.infer({ obs: { data, dims: [1, 64] } }, { timeoutMs: 100 });
 *   engine.snapshot();   // every statistic as JSON
 *   await engine.stop(); // drains, then stops every worker
 */
export { Engine, type EngineOptions, type LoadModelOptions, type ModelHandle } from './engine.js';
export * from './errors.js';
export type { InferOptions, InferResult, OutputTensor } from './request.js';
export type { Tensor, TensorMap } from './validate.js';
export { TensorSource, type InputValues, type OutputSink } from './tensor-source.js';
export type { DType, TensorData, TensorValues } from './dtypes.js';
export type { ModelSignature, TensorSpec, ServingPlan } from './signature.js';
export { isPackedPlan } from './signature.js';
export type { ModelServingConfig, ModelServingConfigInput, BatchingConfig, QueueConfig, RateLimitConfig, WorkerConfig } from './config.js';
export type {
  EngineSnapshot,
  ModelSnapshot,
  QueueSnapshot,
  SwapKind,
  SwapRecord,
  VersionSnapshot,
  WorkerState,
  WorkerStats,
} from './snapshot.js';
export type { SwapOptions } from './model-runner.js';
export type { ArenaStats } from './arena.js';
export type { BatchSizeStatistics, DurationStat, FailureReason, VersionStatistics } from './version-statistics.js';
export type { EngineEvent, EventKind, EventLevel } from './events.js';
export type { FaultKind } from './worker/protocol.js';
