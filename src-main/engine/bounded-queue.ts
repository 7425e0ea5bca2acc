/**
 * A FIFO with a hard capacity. Removal of an arbitrary item (timeout, abort) is O(1):
 * the item is marked and skipped when it reaches the head, while the depth that
 * capacity checks use drops at once. When full, the queue's policy either refuses at
 * once or lets the caller wait, bounded in number and time, for room.
 */
import type { QueueConfig } from './config.js';
import { QueueFullError } from './errors.js';

export interface Queueable {
  /** Set by the queue: true from offer until the item is taken or removed. */
  inQueue: boolean;
  readonly rows: number;
}

interface Waiter {
  admit: () => void;
  fail: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export interface QueueCounters {
  enqueued: number;
  dequeued: number;
  removed: number;
  rejectedFull: number;
  waitedForRoom: number;
}

export class BoundedQueue<T extends Queueable> {
  private items: (T | undefined)[] = [];
  private head = 0;
  private depthCount = 0;
  private rowCount = 0;
  private highWaterMark = 0;
  private readonly waiters: Waiter[] = [];
  readonly counters: QueueCounters = { enqueued: 0, dequeued: 0, removed: 0, rejectedFull: 0, waitedForRoom: 0 };

  constructor(
    readonly name: string,
    private config: QueueConfig,
  ) {}

  get depth(): number {
    return this.depthCount;
  }

  /** Rows held by the queued requests (a request may carry several). */
  get rows(): number {
    return this.rowCount;
  }

  get highWater(): number {
    return this.highWaterMark;
  }

  get capacity(): number {
    return this.config.capacity;
  }

  /** Places the backing array holds, live or spent: what compaction keeps near the depth in a long run. */
  get heldSlots(): number {
    return this.items.length;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  get policy(): QueueConfig {
    return this.config;
  }

  /** Change capacity or policy live. Shrinking keeps what is queued; new offers wait or fail until it drains. */
  reconfigure(config: QueueConfig): void {
    this.config = config;
    this.admitWaiters();
  }

  /**
   * Enqueue, or throw QueueFullError (policy "reject"). Under policy "wait" a full queue
   * returns a promise that settles when the item is in, or rejects after the wait timeout.
   */
  offer(item: T): void | Promise<void> {
    if (this.depthCount < this.config.capacity && this.waiters.length === 0) {
      this.push(item);
      return;
    }
    if (this.config.fullPolicy === 'reject' || this.waiters.length >= this.config.maxWaiters) {
      this.counters.rejectedFull++;
      throw new QueueFullError(this.name, this.config.capacity);
    }
    this.counters.waitedForRoom++;
    const started = performance.now();
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        admit: () => {
          clearTimeout(waiter.timer);
          this.push(item);
          resolve();
        },
        fail: (error) => {
          clearTimeout(waiter.timer);
          reject(error);
        },
        timer: setTimeout(() => {
          const index = this.waiters.indexOf(waiter);
          if (index >= 0) this.waiters.splice(index, 1);
          this.counters.rejectedFull++;
          reject(new QueueFullError(this.name, this.config.capacity, performance.now() - started));
        }, this.config.fullWaitTimeoutMs),
      };
      this.waiters.push(waiter);
    });
  }

  /** Oldest live item, without taking it. */
  peek(): T | undefined {
    this.skipRemoved();
    return this.items[this.head];
  }

  shift(): T | undefined {
    this.skipRemoved();
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head]!;
    this.items[this.head++] = undefined;
    this.take(item);
    this.counters.dequeued++;
    this.compact();
    this.admitWaiters();
    return item;
  }

  /** Put an item back at the head (a retry after a worker crash); ignores capacity, since it was already admitted. */
  unshift(item: T): void {
    item.inQueue = true;
    if (this.head > 0) this.items[--this.head] = item;
    else this.items.unshift(item);
    this.depthCount++;
    this.rowCount += item.rows;
    this.counters.enqueued++;
  }

  /** Live items from the oldest, at most `limit` (a grouped batch looks past the head for requests of its shape). */
  *live(limit: number): Generator<T> {
    let seen = 0;
    for (let i = this.head; i < this.items.length && seen < limit; i++) {
      const item = this.items[i];
      if (!item?.inQueue) continue;
      seen++;
      yield item;
    }
  }

  /** Dequeue an item from anywhere in the queue (a grouped batch takes its group's), counted as dequeued. */
  extract(item: T): boolean {
    if (!item.inQueue) return false;
    this.take(item);
    this.counters.dequeued++;
    this.admitWaiters();
    return true;
  }

  /** Take an item out wherever it is. Returns false if it was not queued. */
  remove(item: T): boolean {
    if (!item.inQueue) return false;
    this.take(item);
    this.counters.removed++;
    this.admitWaiters();
    return true;
  }

  /** Refuse every caller still waiting for room. */
  failWaiters(error: Error): void {
    for (const waiter of this.waiters.splice(0)) waiter.fail(error);
  }

  /** Live items in order (for drain on shutdown). */
  drainAll(): T[] {
    const live: T[] = [];
    for (let item = this.shift(); item; item = this.shift()) live.push(item);
    return live;
  }

  private push(item: T): void {
    item.inQueue = true;
    this.items.push(item);
    this.depthCount++;
    this.rowCount += item.rows;
    this.counters.enqueued++;
    if (this.depthCount > this.highWaterMark) this.highWaterMark = this.depthCount;
  }

  private take(item: T): void {
    item.inQueue = false;
    this.depthCount--;
    this.rowCount -= item.rows;
  }

  private skipRemoved(): void {
    while (this.head < this.items.length) {
      const item = this.items[this.head];
      if (item?.inQueue) return;
      this.items[this.head++] = undefined;
    }
    this.compact();
  }

  private compact(): void {
    if (this.head === this.items.length) {
      this.items.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }

  private admitWaiters(): void {
    while (this.waiters.length > 0 && this.depthCount < this.config.capacity) this.waiters.shift()!.admit();
  }
}
