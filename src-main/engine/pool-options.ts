/** What a WorkerPool is made with: its model's settings, and the callbacks by which it reports batches and capacity. */
import type { EngineClock } from './clock.js';
import type { WorkerConfig } from './config.js';
import type { EventLog } from './events.js';
import type { BatchingMode } from './signature.js';
import type { InflightBatch } from './worker-handle.js';
import type { WorkerTransport } from './worker-transport.js';
import type { WireTensor } from './worker/protocol.js';

export interface PoolCallbacks<B extends InflightBatch> {
  /** `outputs`: a packed plan's tensors as onnxruntime returned them, those in its slot as views valid during the call (row plans' outputs are in their arena). */
  onDone(batch: B, computeMs: number, outputs: WireTensor[] | undefined): void;
  onRunFailed(batch: B, message: string): void;
  /** A worker died or hung; these batches never finished. */
  onWorkerLost(workerId: string, batches: B[], reason: string): void;
  /** A worker has become able to take batches. */
  onCapacity(): void;
}

export interface PoolOptions<B extends InflightBatch> {
  readonly model: string;
  readonly config: WorkerConfig;
  readonly maxBatchSize: number;
  readonly batchingMode: BatchingMode;
  readonly callbacks: PoolCallbacks<B>;
  readonly events: EventLog;
  readonly windowSeconds: number;
  /** What one version may reserve for arenas and staging over all workers (see checkMemoryBudget). */
  readonly memoryBudgetBytes: number;
  readonly transport?: WorkerTransport;
  readonly clock?: EngineClock;
}
