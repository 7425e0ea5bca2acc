/**
 * A ring of one-second buckets. Rates and percentiles on the dashboard describe the
 * last few seconds, not the lifetime of the process, so a slow-down shows at once.
 * The clock is injected so tests can drive time without sleeping.
 */
export type Clock = () => number;

export const monotonicMs: Clock = () => performance.now();

export class SecondRing<T> {
  private readonly buckets: T[];
  private readonly stamps: Float64Array;

  constructor(
    readonly seconds: number,
    private readonly make: () => T,
    private readonly reset: (bucket: T) => void,
    private readonly clock: Clock = monotonicMs,
  ) {
    this.buckets = Array.from({ length: seconds + 1 }, make);
    this.stamps = new Float64Array(seconds + 1).fill(-1);
  }

  /** The bucket for the current second, cleared if it last held an older second. */
  current(nowMs = this.clock()): T {
    const second = Math.floor(nowMs / 1000);
    const index = second % this.buckets.length;
    const bucket = this.buckets[index]!;
    if (this.stamps[index] !== second) {
      this.reset(bucket);
      this.stamps[index] = second;
    }
    return bucket;
  }

  /** Buckets within the window (the current partial second included), and the span they cover in seconds. */
  window(): { buckets: T[]; spanSeconds: number } {
    const nowMs = this.clock();
    const second = Math.floor(nowMs / 1000);
    const buckets: T[] = [];
    let oldest = second;
    for (let i = 0; i < this.buckets.length; i++) {
      const stamp = this.stamps[i]!;
      if (stamp >= 0 && stamp > second - this.buckets.length && stamp <= second) {
        buckets.push(this.buckets[i]!);
        oldest = Math.min(oldest, stamp);
      }
    }
    const spanSeconds = Math.max(1e-3, Math.min(this.seconds, nowMs / 1000 - oldest));
    return { buckets, spanSeconds };
  }

  /** Clear buckets that have left the window but whose slot was not reused yet. */
  expireStale(nowMs = this.clock()): void {
    const second = Math.floor(nowMs / 1000);
    for (let i = 0; i < this.buckets.length; i++) {
      const stamp = this.stamps[i]!;
      if (stamp >= 0 && stamp <= second - this.buckets.length) {
        this.reset(this.buckets[i]!);
        this.stamps[i] = -1;
      }
    }
  }

  /** Every bucket that holds data, in the window or not yet reused. */
  all(): T[] {
    return this.buckets.filter((_, i) => this.stamps[i]! >= 0);
  }

  clear(): void {
    this.stamps.fill(-1);
    for (const bucket of this.buckets) this.reset(bucket);
  }
}

/** A lifetime total plus a per-second rate over the window. */
export class WindowedCounter {
  total = 0;
  private readonly ring: SecondRing<{ n: number }>;

  constructor(windowSeconds: number, clock?: Clock) {
    this.ring = new SecondRing(
      windowSeconds,
      () => ({ n: 0 }),
      (b) => (b.n = 0),
      clock,
    );
  }

  add(n = 1, nowMs?: number): void {
    this.total += n;
    this.ring.current(nowMs).n += n;
  }

  ratePerSecond(): number {
    const { buckets, spanSeconds } = this.ring.window();
    let sum = 0;
    for (const b of buckets) sum += b.n;
    return sum / spanSeconds;
  }
}
