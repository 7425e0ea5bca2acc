/**
 * One timer for many deadlines. A setTimeout per request costs more than the request
 * itself at the rates the engine serves, so deadlines live in an indexed binary
 * min-heap (O(log n) add and cancel) and a single timer is armed for the earliest.
 */
export interface Deadline {
  readonly at: number;
  /** Position in the heap; -1 once fired or cancelled. */
  index: number;
  readonly fire: () => void;
}

export class DeadlineScheduler {
  private readonly heap: Deadline[] = [];
  private timer: NodeJS.Timeout | undefined;
  private armedAt = Infinity;

  constructor(private readonly now: () => number = () => performance.now()) {}

  get size(): number {
    return this.heap.length;
  }

  /** `at` must be a finite time: NaN compares false with everything, so it would sit at the top and hold back every other deadline. */
  add(at: number, fire: () => void): Deadline {
    if (!Number.isFinite(at)) throw new RangeError(`a deadline must be a finite time, got ${at}`);
    const entry: Deadline = { at, index: this.heap.length, fire };
    this.heap.push(entry);
    this.siftUp(entry.index);
    if (at < this.armedAt) this.arm();
    return entry;
  }

  cancel(entry: Deadline): void {
    const i = entry.index;
    if (i < 0) return;
    entry.index = -1;
    const last = this.heap.pop()!;
    if (last !== entry) {
      this.heap[i] = last;
      last.index = i;
      this.siftUp(i);
      this.siftDown(last.index);
    }
    // The timer may now fire early for nothing; expire() re-arms, which is cheaper than re-arming here.
  }

  /** Drop every entry and the timer (shutdown). */
  clear(): void {
    for (const entry of this.heap) entry.index = -1;
    this.heap.length = 0;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.armedAt = Infinity;
  }

  private arm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.armedAt = Infinity;
    const first = this.heap[0];
    if (!first) return;
    this.armedAt = first.at;
    this.timer = setTimeout(() => this.expire(), Math.max(0, Math.ceil(first.at - this.now())));
  }

  private expire(): void {
    this.timer = undefined;
    this.armedAt = Infinity;
    const now = this.now();
    while (this.heap.length > 0 && this.heap[0]!.at <= now) {
      const entry = this.heap[0]!;
      this.cancel(entry);
      entry.fire();
    }
    this.arm();
  }

  private swap(i: number, j: number): void {
    const a = this.heap[i]!;
    const b = this.heap[j]!;
    this.heap[i] = b;
    this.heap[j] = a;
    a.index = j;
    b.index = i;
  }

  private siftUp(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.heap[parent]!.at <= this.heap[i]!.at) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private siftDown(i: number): void {
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let smallest = i;
      if (left < this.heap.length && this.heap[left]!.at < this.heap[smallest]!.at) smallest = left;
      if (right < this.heap.length && this.heap[right]!.at < this.heap[smallest]!.at) smallest = right;
      if (smallest === i) return;
      this.swap(i, smallest);
      i = smallest;
    }
  }
}
