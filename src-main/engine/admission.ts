/**
 * Whether a request may enter a model's queue: the runner must be running and not
 * draining, the caller not have aborted, the options and tensors fit the version's
 * plan, and the rate limits allow it. A refusal is a typed error, counted by kind;
 * nothing else changes.
 */
import { AbortedError, asError, InvalidInputError, QueueDrainingError, RateLimitedError, ShuttingDownError } from './errors.js';
import type { ModelStats } from './model-stats.js';
import type { EnqueueRateLimiter } from './rate-limit.js';
import { checkInferOptions, type InferOptions, type InferRequest } from './request.js';
import type { BoundedQueue } from './bounded-queue.js';
import type { ServingPlan } from './signature.js';
import { validateInputs, type ValidatedRequest } from './validate.js';

export interface AdmissionFacts {
  readonly model: string;
  readonly queueName: string;
  readonly runnerState: string;
  readonly draining: boolean;
  readonly plan: ServingPlan;
  readonly checkFinite: boolean;
  readonly limiter: EnqueueRateLimiter;
  readonly counts: ModelStats['counts'];
}

/** The validated tensors, or a typed error thrown (and counted). */
export function admit(inputs: unknown, options: InferOptions, facts: AdmissionFacts): ValidatedRequest {
  const { counts } = facts;
  if (facts.runnerState !== 'running') {
    counts.rejectedShuttingDown++;
    throw new ShuttingDownError(`model "${facts.model}" is ${facts.runnerState}`);
  }
  try {
    checkInferOptions(options); // first: the checks below read the options
    if (options.signal?.aborted) throw new AbortedError('before_enqueue');
    if (facts.draining) {
      counts.rejectedDraining++;
      throw new QueueDrainingError(facts.queueName);
    }
    for (const name of Object.keys(options.outputSinks ?? {}))
      if (!facts.plan.outputs.some((o) => o.name === name))
        throw new InvalidInputError('option', name, 'outputSinks names an output the model does not have');
    const validated = validateInputs(facts.plan, inputs, options.checkFinite ?? facts.checkFinite);
    if (facts.limiter.enabled) facts.limiter.admit(options.clientId);
    return validated;
  } catch (error) {
    if (error instanceof InvalidInputError) counts.rejectedInvalid++;
    else if (error instanceof RateLimitedError) counts.rejectedRateLimited++;
    throw error;
  }
}

/**
 * Offer an admitted request to the queue: `accepted` once it is in (at once, or after
 * waiting for room under the "block" policy); rejected when the queue refuses it.
 */
export function enqueue(queue: BoundedQueue<InferRequest>, request: InferRequest, accepted: (request: InferRequest) => void): void {
  let offered;
  try {
    offered = queue.offer(request);
  } catch (error) {
    request.reject(asError(error)); // QueueFullError
    return;
  }
  if (offered === undefined) accepted(request);
  else
    offered.then(
      () => accepted(request),
      (error: Error) => request.reject(error),
    );
}
