/**
 * Messages between the engine (main thread) and an inference worker thread. Both ends
 * are our own code in one process, so these are plain TypeScript types, not schemas;
 * the shared status block carries what must stay readable while a worker is busy.
 */
import type { ArenaLayout } from '../arena.js';
import type { RunTensor, SlotGeometry } from '../byte-arena.js';
import type { DType, TensorValues } from '../dtypes.js';
import type { ProbeEvidence, RawValueMetadata, ServingPlan } from '../signature.js';

/** A tensor carried in a message (a packed plan's tensors its slot cannot hold), its buffer transferred. */
export interface WireTensor {
  readonly name: string;
  readonly dtype: DType;
  readonly dims: readonly number[];
  readonly data: TensorValues;
}

/**
 * Faults a test (or an operator's chaos drill) can inject: a crash or a JS hang right
 * away (an idle hang stops heartbeats), a crash or hang inside the next batch (a batch
 * that never finishes, as a stuck native call would), or a crash just after the next
 * batch is reported done (its answer and the thread's exit arrive together).
 */
export type FaultKind = 'crash-now' | 'hang-now' | 'crash-next-batch' | 'hang-next-batch' | 'crash-after-batch';

export type ToWorker =
  | { type: 'load'; version: number; model: Uint8Array; intraOpThreads: number }
  /** A row plan runs in `sab` cut as `layout`; a packed plan in the byte slots `slots` (none: everything by transfer). */
  | { type: 'attach'; version: number; plan: ServingPlan; sab?: SharedArrayBuffer; layout?: ArenaLayout; slots?: SlotGeometry }
  /** Run the batching probe (batching-probe.ts) on a loaded version. */
  | { type: 'probe'; version: number }
  | { type: 'release'; version: number }
  | { type: 'run'; batchId: number; version: number; slot: number; rows: number; inputs?: RunTensor[] }
  | { type: 'fault'; kind: FaultKind }
  | { type: 'shutdown' };

export type FromWorker =
  | { type: 'loaded'; version: number; inputs: RawValueMetadata[]; outputs: RawValueMetadata[]; loadMs: number }
  | { type: 'load-failed'; version: number; message: string }
  | { type: 'probed'; version: number; evidence: ProbeEvidence }
  /** `outputs` for a packed plan's run: shapes as onnxruntime returned them, each in the slot or transferred. */
  | { type: 'done'; batchId: number; computeMs: number; outputs?: RunTensor[] }
  | { type: 'run-failed'; batchId: number; message: string };

export interface WorkerInit {
  readonly workerId: string;
  readonly status: SharedArrayBuffer;
  readonly heartbeatIntervalMs: number;
}

/** Fields of the per-worker status block (a BigInt64Array), written by the worker with Atomics. */
export const Status = {
  heartbeatMs: 0,
  batches: 1,
  rows: 2,
  busyUs: 3,
  state: 4,
  /** When the current batch (or session creation) began. */
  batchStartedMs: 5,
} as const;
export const STATUS_FIELDS = 6;

/** What the thread is doing; `busy` and `loading` block it, so heartbeats pause and the age of the phase is checked instead. */
export const WorkerPhase = { starting: 0n, idle: 1n, busy: 2n, loading: 3n } as const;
