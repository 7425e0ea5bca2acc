/**
 * What can end an accepted request before its batch answers it: its own deadline, its
 * caller's AbortSignal, and the queue's timeout for the oldest request (one sweep for the
 * head, not a timer per request). Each calls `end` with the typed error; the runner
 * rejects the request and counts it.
 */
import { DeadlineScheduler, type Deadline } from './deadlines.js';
import { AbortedError, QueueTimeoutError, RequestTimeoutError } from './errors.js';
import { QueueSweep } from './queue-sweep.js';
import type { InferRequest } from './request.js';

/** Why a request ended early: each is the name of the ModelStats counter it is counted in. */
export type EndReason = 'timedOut' | 'aborted' | 'queueTimedOut';

export interface RequestWatchOptions {
  readonly queueName: string;
  /** The oldest queued request. */
  head(): InferRequest | undefined;
  queueTimeoutMs(): number;
  end(request: InferRequest, reason: EndReason, error: Error): void;
  /** The clock requests' `acceptedAt` was read from: deadlines are times on it. */
  now(): number;
}

export class RequestWatch {
  private readonly deadlines: DeadlineScheduler;
  private readonly sweep: QueueSweep<InferRequest>;
  private readonly cancelDeadline = (deadline: Deadline) => this.deadlines.cancel(deadline);

  constructor(private readonly options: RequestWatchOptions) {
    this.deadlines = new DeadlineScheduler(() => options.now());
    this.sweep = new QueueSweep<InferRequest>(
      () => options.head(),
      () => options.queueTimeoutMs(),
      (request, timeoutMs) => options.end(request, 'queueTimedOut', new QueueTimeoutError(options.queueName, timeoutMs)),
      () => options.now(),
    );
  }

  /** Watch a request just accepted into the queue. */
  watch(request: InferRequest): void {
    const { timeoutMs, signal } = request.options;
    if (timeoutMs !== undefined) {
      request.cancelDeadline = this.cancelDeadline;
      request.deadline = this.deadlines.add(request.acceptedAt + timeoutMs, () => {
        request.deadline = undefined;
        if (request.settled) return;
        this.options.end(request, 'timedOut', new RequestTimeoutError(timeoutMs, request.inQueue ? 'queued' : 'running'));
      });
    }
    this.sweep.arm();
    if (signal) {
      request.onAbort = () => {
        if (request.settled) return;
        this.options.end(request, 'aborted', new AbortedError(request.inQueue ? 'queued' : 'running'));
      };
      signal.addEventListener('abort', request.onAbort, { once: true });
    }
  }

  stop(): void {
    this.deadlines.clear();
    this.sweep.stop();
  }
}
