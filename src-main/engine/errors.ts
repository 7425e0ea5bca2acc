/**
 * Every way the engine can refuse or fail a request, as a typed error with a stable
 * `code`. Callers branch on the class (or on `code` once the error has crossed a process
 * or HTTP boundary); messages are for people.
 */
export abstract class EngineError extends Error {
  abstract readonly code: string;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
  toJSON(): { code: string; name: string; message: string } {
    return { code: this.code, name: this.name, message: this.message };
  }
}

export type InvalidInputKind =
  | 'not_an_object'
  | 'missing_input'
  | 'unknown_input'
  | 'not_a_tensor'
  | 'dtype'
  | 'rank'
  | 'dim'
  | 'element_count'
  | 'batch_mismatch'
  | 'batch_too_large'
  | 'empty_batch'
  | 'non_finite'
  | 'option';

/** The request does not match the model's signature; nothing was enqueued. */
export class InvalidInputError extends EngineError {
  readonly code = 'INVALID_INPUT';
  constructor(
    readonly kind: InvalidInputKind,
    readonly input: string | undefined,
    message: string,
  ) {
    super(input === undefined ? message : `input "${input}": ${message}`);
  }
}

/** The queue is at capacity (immediately, or after waiting up to the policy's timeout). */
export class QueueFullError extends EngineError {
  readonly code = 'QUEUE_FULL';
  constructor(
    readonly queue: string,
    readonly capacity: number,
    waitedMs?: number,
  ) {
    super(
      waitedMs === undefined
        ? `queue "${queue}" is full (capacity ${capacity})`
        : `queue "${queue}" stayed full (capacity ${capacity}) for ${Math.round(waitedMs)} ms`,
    );
  }
}

/** The request waited in the queue longer than the queue's timeout and was never run. */
export class QueueTimeoutError extends EngineError {
  readonly code = 'QUEUE_TIMEOUT';
  constructor(
    readonly queue: string,
    readonly timeoutMs: number,
  ) {
    super(`request waited more than ${timeoutMs} ms in queue "${queue}"`);
  }
}

/** The request's own deadline (`timeoutMs`) passed before it was answered. */
export class RequestTimeoutError extends EngineError {
  readonly code = 'REQUEST_TIMEOUT';
  constructor(
    readonly timeoutMs: number,
    readonly stage: 'queued' | 'running',
  ) {
    super(`request not answered within ${timeoutMs} ms (it was ${stage})`);
  }
}

/** The caller's AbortSignal fired. */
export class AbortedError extends EngineError {
  readonly code = 'ABORTED';
  constructor(readonly stage: 'before_enqueue' | 'queued' | 'running') {
    super(`request aborted by the caller (it was ${stage.replace('_', ' ')})`);
  }
}

/** Over a token-bucket limit; nothing was enqueued. Retry after `retryAfterMs`. */
export class RateLimitedError extends EngineError {
  readonly code = 'RATE_LIMITED';
  constructor(
    readonly scope: 'queue' | 'client' | 'table',
    readonly key: string,
    readonly retryAfterMs: number,
  ) {
    super(
      scope === 'table'
        ? `table "${key}": the rate limiter kept the call blocked for ${Math.ceil(retryAfterMs)} ms`
        : `rate limit for ${scope} "${key}" exceeded; retry after ${Math.ceil(retryAfterMs)} ms`,
    );
  }
}

/** The worker running the request died or hung, and the one retry (if any) failed too. */
export class WorkerCrashedError extends EngineError {
  readonly code = 'WORKER_CRASHED';
  constructor(
    readonly workerId: string,
    readonly reason: string,
  ) {
    super(`inference worker ${workerId} failed while running the request: ${reason}`);
  }
}

/** onnxruntime reported an error running the batch. */
export class InferenceFailedError extends EngineError {
  readonly code = 'INFERENCE_FAILED';
}

/** The engine (or this model) is stopping or stopped; the request was not run. */
export class ShuttingDownError extends EngineError {
  readonly code = 'SHUTTING_DOWN';
}

export class UnknownModelError extends EngineError {
  readonly code = 'UNKNOWN_MODEL';
  constructor(readonly model: string) {
    super(`no model named "${model}" is loaded`);
  }
}

/** The model file could not be read or onnxruntime refused it. */
export class ModelLoadError extends EngineError {
  readonly code = 'MODEL_LOAD_FAILED';
}

/** The model is valid ONNX but uses something the engine cannot serve. */
export class UnsupportedModelError extends EngineError {
  readonly code = 'UNSUPPORTED_MODEL';
}

/** Serving the version would reserve more memory (arenas and staging) than its budget allows. */
export class MemoryBudgetError extends EngineError {
  readonly code = 'MEMORY_BUDGET';
  constructor(
    readonly reservedBytes: number,
    readonly budgetBytes: number,
    detail: string,
  ) {
    super(
      `serving it would reserve ${formatBytes(reservedBytes)} (${detail}), over the budget of ${formatBytes(budgetBytes)}; raise memoryBudgetBytes in its config.json, or lower maxBatchSize, workers.count, workers.maxInflightBatches or (shapes that vary) workers.variableSlotBytes`,
    );
  }
}

function formatBytes(bytes: number): string {
  return bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(2)} GiB` : `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
}

/** Workers did not report ready in time. */
export class StartupTimeoutError extends EngineError {
  readonly code = 'STARTUP_TIMEOUT';
}

/** A configuration value is out of range or inconsistent. */
export class ConfigError extends EngineError {
  readonly code = 'INVALID_CONFIG';
}

/** The queue is draining: it finishes what it holds and takes nothing new until it is empty. */
export class QueueDrainingError extends EngineError {
  readonly code = 'QUEUE_DRAINING';
  constructor(readonly queue: string) {
    super(`queue "${queue}" is draining and accepts no new requests until it is empty`);
  }
}

/** A caught value as an Error: anything thrown that is not one is wrapped, never lost. */
export function asError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

/** A new version's signature differs from the active one's, and no force was given. */
export class IncompatibleModelError extends EngineError {
  readonly code = 'INCOMPATIBLE_MODEL';
}

/** An operator asked for a version that cannot be served: not in the repository, invalid, not validated yet, or refused. */
export class VersionUnavailableError extends EngineError {
  readonly code = 'VERSION_UNAVAILABLE';
  constructor(
    readonly model: string,
    readonly version: number,
    why: string,
  ) {
    super(`model "${model}" version ${version} ${why}`);
  }
}

/** The bytes to load are not the bytes that were validated (the file changed in between). */
export class ChecksumMismatchError extends EngineError {
  readonly code = 'CHECKSUM_MISMATCH';
  constructor(
    readonly expected: string,
    readonly actual: string,
  ) {
    super(`model bytes have sha256 ${actual.slice(0, 12)}..., expected ${expected.slice(0, 12)}... (changed after validation?)`);
  }
}
