/**
 * The requests running on a worker now, counted in one place: a batch starts them, and an
 * answer, a rejection or a worker's loss stops each (whichever comes first; the rest find
 * it stopped). The batcher sizes batches with these rows counted.
 */
import type { InferRequest } from './request.js';

export class RunningRequests {
  private requests = 0;
  private rowsRunning = 0;

  get count(): number {
    return this.requests;
  }

  get rows(): number {
    return this.rowsRunning;
  }

  /** A batch of these requests goes to a worker at `nowMs`: one more attempt each. */
  start(requests: readonly InferRequest[], nowMs: number): void {
    for (const request of requests) {
      request.running = true;
      request.attempts++;
      request.dispatchedAt = nowMs;
      this.requests++;
      this.rowsRunning += request.rows;
    }
  }

  /** The request is no longer running; false if it was not. */
  stop(request: InferRequest): boolean {
    if (!request.running) return false;
    request.running = false;
    this.requests--;
    this.rowsRunning -= request.rows;
    return true;
  }
}
