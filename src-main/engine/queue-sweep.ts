/**
 * The queue timeout. The queue is first-in first-out and its timeout is the same for
 * every request, so the oldest request is always the first to expire: one timer on the
 * head replaces a deadline per request.
 */
export interface Aged {
  readonly acceptedAt: number;
}

export class QueueSweep<R extends Aged> {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly head: () => R | undefined,
    private readonly timeoutMs: () => number,
    /** Reject the request (it leaves the queue, so the next one becomes the head). */
    private readonly expire: (request: R, timeoutMs: number) => void,
    /** The clock `acceptedAt` was read from. */
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** A request was queued: make sure a sweep is due for the head. */
  arm(): void {
    if (this.timer) return;
    const head = this.head();
    const timeoutMs = this.timeoutMs();
    if (!head || timeoutMs === 0) return;
    const dueIn = head.acceptedAt + timeoutMs - this.now();
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        const now = this.now();
        for (let oldest = this.head(); oldest && oldest.acceptedAt + timeoutMs <= now; oldest = this.head()) this.expire(oldest, timeoutMs);
        this.arm();
      },
      Math.max(0, Math.ceil(dueIn)),
    );
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
