/**
 * A request's life on the engine side: accepted, queued, running on a worker, then
 * answered or rejected exactly once (`settled`). Timers, aborts and worker losses can
 * race to settle it; whichever comes first wins and the rest find it settled.
 */
import type { DType, TensorData } from './dtypes.js';
import type { Queueable } from './bounded-queue.js';
import type { Deadline } from './deadlines.js';

export interface InferOptions {
  /** Deadline for the whole request, queue and compute, from the call. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  /** Key for the per-client rate limit. */
  readonly clientId?: string;
  /** Overrides the model's `checkFinite` for this request. */
  readonly checkFinite?: boolean;
}

export interface OutputTensor {
  readonly data: TensorData;
  readonly dims: number[];
  readonly dtype: DType;
}

export interface InferResult {
  readonly outputs: Record<string, OutputTensor>;
  /** The model version that produced these outputs. */
  readonly modelVersion: number;
  /** Rows in the batch this request ran in (its own rows included). */
  readonly batchRows: number;
  readonly timings: { readonly queueMs: number; readonly computeMs: number; readonly totalMs: number };
}

export class InferRequest implements Queueable {
  inQueue = false;
  running = false;
  settled = false;
  attempts = 0;
  dispatchedAt = 0;
  onAbort: (() => void) | undefined;
  /** The request's own deadline, cancelled when it settles so the heap holds only live requests. */
  deadline: Deadline | undefined;
  cancelDeadline: ((deadline: Deadline) => void) | undefined;
  /** Called once, after the request settles either way (one shared function, not a closure per request). */
  onSettled: ((request: InferRequest) => void) | undefined;

  constructor(
    readonly data: TensorData[],
    readonly rows: number,
    /** The model version whose signature it was validated against, and that will run it. */
    readonly version: number,
    readonly acceptedAt: number,
    readonly options: InferOptions,
    readonly resolve: (result: InferResult) => void,
    readonly rejectPromise: (error: Error) => void,
  ) {}

  /** Settle with an error; false if it was already settled. */
  reject(error: Error): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.detach();
    this.rejectPromise(error);
    this.onSettled?.(this);
    return true;
  }

  fulfil(result: InferResult): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.detach();
    this.resolve(result);
    this.onSettled?.(this);
    return true;
  }

  private detach(): void {
    if (this.deadline) this.cancelDeadline?.(this.deadline);
    this.deadline = undefined;
    if (this.onAbort) this.options.signal?.removeEventListener('abort', this.onAbort);
    this.onAbort = undefined;
  }
}
