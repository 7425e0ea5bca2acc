/**
 * A request's life on the engine side: accepted, queued, running on a worker, then
 * answered or rejected exactly once (`settled`). Timers, aborts and worker losses can
 * race to settle it; whichever comes first wins and the rest find it settled.
 */
import type { DType, TensorValues } from './dtypes.js';
import type { InputValues, OutputSink } from './tensor-source.js';
import { InvalidInputError } from './errors.js';
import type { Queueable } from './bounded-queue.js';
import type { Deadline } from './deadlines.js';
import type { ValidatedRequest } from './validate.js';

export interface InferOptions {
  /** Deadline for the whole request, queue and compute, from the call. */
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  /** Key for the per-client rate limit. */
  readonly clientId?: string;
  /** Overrides the model's `checkFinite` for this request. */
  readonly checkFinite?: boolean;
  /** Run on this version (the active one or one kept warm); the active version when absent. */
  readonly version?: number;
  /** Outputs to hand to a sink instead of the result, by name (see tensor-source.ts). */
  readonly outputSinks?: Readonly<Record<string, OutputSink>>;
}

/** A request's deadline at most: a day (a longer one is a mistake, and a timer that far out is one too). */
export const MAX_TIMEOUT_MS = 86_400_000;
/** Client keys at most this long: the rate limiter remembers them. */
export const MAX_CLIENT_ID_LENGTH = 256;

/** Check what a caller passed beside its tensors; an InvalidInputError (kind "option") names the bad one. */
export function checkInferOptions(options: InferOptions): void {
  if (typeof options !== 'object' || options === null) throw new InvalidInputError('option', undefined, 'options must be an object');
  const { timeoutMs, clientId, checkFinite, signal, version, outputSinks } = options as Record<string, unknown>;
  if (
    timeoutMs !== undefined &&
    (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs <= 0 || timeoutMs > MAX_TIMEOUT_MS)
  )
    throw new InvalidInputError(
      'option',
      undefined,
      `timeoutMs must be a finite number of milliseconds above 0 and at most ${MAX_TIMEOUT_MS}, got ${typeof timeoutMs === 'number' ? timeoutMs : typeof timeoutMs}`,
    );
  if (clientId !== undefined && (typeof clientId !== 'string' || clientId.length > MAX_CLIENT_ID_LENGTH))
    throw new InvalidInputError('option', undefined, `clientId must be a string of at most ${MAX_CLIENT_ID_LENGTH} characters`);
  if (checkFinite !== undefined && typeof checkFinite !== 'boolean')
    throw new InvalidInputError('option', undefined, 'checkFinite must be true or false');
  if (version !== undefined && (typeof version !== 'number' || !Number.isInteger(version) || version < 1))
    throw new InvalidInputError('option', undefined, 'version must be a positive integer');
  if (signal !== undefined && !(signal instanceof AbortSignal))
    throw new InvalidInputError('option', undefined, 'signal must be an AbortSignal');
  if (
    outputSinks !== undefined &&
    (typeof outputSinks !== 'object' || outputSinks === null || !Object.values(outputSinks).every((s) => typeof s === 'function'))
  )
    throw new InvalidInputError('option', undefined, 'outputSinks must map output names to functions');
}

export interface OutputTensor {
  readonly data: TensorValues;
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
  onSettled: ((request: InferRequest, error: Error | undefined) => void) | undefined;

  /** Input arrays (or sources) in plan order. */
  readonly data: InputValues[];
  /** Size of dim 0 (1 for one request per run). */
  readonly rows: number;
  /** Each input's dims, for a plan that moves tensors by transfer (a row plan's follow from `rows`). */
  readonly dims: (readonly number[])[] | undefined;
  /** A grouped plan's shape past dim 0: the request is batched only with its group. */
  readonly group: string | undefined;

  constructor(
    validated: ValidatedRequest,
    /** The model version whose signature it was validated against, and that will run it. */
    readonly version: number,
    readonly acceptedAt: number,
    readonly options: InferOptions,
    readonly resolve: (result: InferResult) => void,
    readonly rejectPromise: (error: Error) => void,
  ) {
    this.data = validated.data;
    this.rows = validated.rows;
    this.dims = validated.dims;
    this.group = validated.group;
  }

  /** Settle with an error; false if it was already settled. */
  reject(error: Error): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.detach();
    this.rejectPromise(error);
    this.onSettled?.(this, error);
    return true;
  }

  fulfil(result: InferResult): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.detach();
    this.resolve(result);
    this.onSettled?.(this, undefined);
    return true;
  }

  private detach(): void {
    if (this.deadline) this.cancelDeadline?.(this.deadline);
    this.deadline = undefined;
    if (this.onAbort) this.options.signal?.removeEventListener('abort', this.onAbort);
    this.onAbort = undefined;
  }
}
