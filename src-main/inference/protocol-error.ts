/**
 * What went wrong with a protocol request, as one of a few kinds that each protocol maps
 * to its own status (HTTP in http-status.ts; gRPC's codes beside it). Engine errors are
 * mapped here, once, so both protocols say the same thing about the same failure. An
 * error nobody expected is `internal`, and its message (which may hold a path) is not
 * sent: the caller logs it.
 */
import {
  AbortedError,
  ChecksumMismatchError,
  ConfigError,
  EngineError,
  IncompatibleModelError,
  InferenceFailedError,
  InvalidInputError,
  ModelLoadError,
  QueueDrainingError,
  QueueFullError,
  QueueTimeoutError,
  RateLimitedError,
  RequestTimeoutError,
  ShuttingDownError,
  UnknownModelError,
  UnsupportedModelError,
  VersionUnavailableError,
  WorkerCrashedError,
} from '../engine/index.js';

export type ProtocolErrorKind =
  | 'invalid' // the request is wrong: fix it
  | 'not_found' // no such model or version
  | 'unavailable' // try again later: full queue, rate limit, draining, stopping
  | 'deadline' // not answered in time
  | 'cancelled' // the caller went away
  | 'too_large' // over a size limit
  | 'already_exists' // the name is taken (a shared-memory region registered twice)
  | 'exhausted' // a pool's limit is reached (shared-memory regions): free some first
  | 'unauthenticated' // no token or a wrong one
  | 'failed' // the model could not run it
  | 'unsupported' // an extension or a feature this server does not have
  | 'internal'; // a bug: the message stays in the log

export class ProtocolError extends Error {
  constructor(
    readonly kind: ProtocolErrorKind,
    message: string,
    /** For `unavailable`: when trying again may succeed. */
    readonly retryAfterMs?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'ProtocolError';
  }
}

/** A full queue says nothing of when it empties: a second is a polite first retry. */
const QUEUE_FULL_RETRY_MS = 1000;

/** The protocol's view of any error a request met. */
export function protocolErrorOf(error: unknown): ProtocolError {
  if (error instanceof ProtocolError) return error;
  if (!(error instanceof EngineError))
    return new ProtocolError('internal', 'internal error (see the server log)', undefined, { cause: error });
  const as = (kind: ProtocolErrorKind, retryAfterMs?: number) => new ProtocolError(kind, error.message, retryAfterMs, { cause: error });
  if (error instanceof InvalidInputError || error instanceof ConfigError) return as('invalid');
  if (error instanceof UnknownModelError || error instanceof VersionUnavailableError) return as('not_found');
  if (error instanceof RateLimitedError) return as('unavailable', error.retryAfterMs);
  if (error instanceof QueueFullError) return as('unavailable', QUEUE_FULL_RETRY_MS);
  if (error instanceof QueueDrainingError || error instanceof ShuttingDownError) return as('unavailable', QUEUE_FULL_RETRY_MS);
  if (error instanceof QueueTimeoutError || error instanceof RequestTimeoutError) return as('deadline');
  if (error instanceof AbortedError) return as('cancelled');
  if (error instanceof InferenceFailedError || error instanceof WorkerCrashedError) return as('failed');
  if (
    error instanceof ModelLoadError ||
    error instanceof UnsupportedModelError ||
    error instanceof IncompatibleModelError ||
    error instanceof ChecksumMismatchError
  )
    return as('failed');
  return as('internal');
}
