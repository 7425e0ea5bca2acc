import { afterEach, describe, expect, it, vi } from 'vitest';
import { BoundedQueue, type Queueable } from '../../src-main/engine/bounded-queue.js';
import { parseServingConfig, type QueueConfig } from '../../src-main/engine/config.js';
import { QueueFullError } from '../../src-main/engine/errors.js';

const item = (rows = 1): Queueable & { id: number } => ({ inQueue: false, rows, id: Math.random() });
/** Enqueue where there is room: offer() must complete at once. */
function put(q: BoundedQueue<Queueable>, it: Queueable): void {
  expect(q.offer(it)).toBeUndefined();
}

const config = (over: Partial<QueueConfig>): QueueConfig => ({ ...parseServingConfig({}).queue, ...over });

afterEach(() => {
  vi.useRealTimers();
});

describe('BoundedQueue', () => {
  it('rejects at once when full under policy "reject", and enqueues nothing', () => {
    const q = new BoundedQueue('q', config({ capacity: 2, fullPolicy: 'reject' }));
    put(q, item());
    put(q, item());
    expect(() => q.offer(item())).toThrow(QueueFullError);
    expect(q.depth).toBe(2);
    expect(q.counters.rejectedFull).toBe(1);
    expect(q.counters.enqueued).toBe(2);
  });

  it('is FIFO and tracks rows and the high-water mark', () => {
    const q = new BoundedQueue('q', config({ capacity: 10 }));
    const a = item(3);
    const b = item(2);
    put(q, a);
    put(q, b);
    expect(q.rows).toBe(5);
    expect(q.shift()).toBe(a);
    expect(q.shift()).toBe(b);
    expect(q.shift()).toBeUndefined();
    expect(q.highWater).toBe(2);
    expect(q.rows).toBe(0);
  });

  it('removes an item from the middle in O(1) and skips it at the head', () => {
    const q = new BoundedQueue('q', config({ capacity: 10 }));
    const [a, b, c] = [item(), item(), item()];
    put(q, a);
    put(q, b);
    put(q, c);
    expect(q.remove(b)).toBe(true);
    expect(q.remove(b)).toBe(false);
    expect(q.depth).toBe(2);
    expect(q.shift()).toBe(a);
    expect(q.shift()).toBe(c);
    expect(q.counters).toMatchObject({ enqueued: 3, dequeued: 2, removed: 1 });
  });

  it('lists live items in order up to a limit, and dequeues one from anywhere', () => {
    const q = new BoundedQueue('q', config({ capacity: 3, fullPolicy: 'wait', fullWaitTimeoutMs: 10_000 }));
    const [a, b, c] = [item(2), item(1), item(3)];
    put(q, a);
    put(q, b);
    put(q, c);
    q.remove(a);
    expect([...q.live(10)]).toEqual([b, c]);
    expect([...q.live(1)]).toEqual([b]);
    const waiting = item();
    const admitted = q.offer(waiting);
    expect(q.extract(c)).toBe(true);
    expect(q.extract(c)).toBe(false);
    expect(q.rows).toBe(2); // b and the admitted waiter
    expect([...q.live(10)]).toEqual([b, waiting]);
    expect(q.counters).toMatchObject({ dequeued: 1, removed: 1 });
    return admitted;
  });

  it('under policy "wait" admits a waiting caller as soon as room frees up', async () => {
    const q = new BoundedQueue('q', config({ capacity: 1, fullPolicy: 'wait', fullWaitTimeoutMs: 10_000 }));
    put(q, item());
    const waiting = item();
    const admitted = q.offer(waiting);
    expect(admitted).toBeInstanceOf(Promise);
    expect(q.waiting).toBe(1);
    expect(waiting.inQueue).toBe(false);
    q.shift();
    await admitted;
    expect(waiting.inQueue).toBe(true);
    expect(q.depth).toBe(1);
  });

  it('under policy "wait" rejects a caller that waited past the timeout', async () => {
    vi.useFakeTimers();
    const q = new BoundedQueue('q', config({ capacity: 1, fullPolicy: 'wait', fullWaitTimeoutMs: 50 }));
    put(q, item());
    const waiting = q.offer(item()) as Promise<void>;
    const outcome = waiting.then(
      () => 'admitted',
      (e: unknown) => e,
    );
    vi.advanceTimersByTime(51);
    const error = await outcome;
    expect(error).toBeInstanceOf(QueueFullError);
    expect(q.waiting).toBe(0);
    expect(q.depth).toBe(1);
  });

  it('bounds the number of waiting callers', () => {
    const q = new BoundedQueue('q', config({ capacity: 1, fullPolicy: 'wait', maxWaiters: 1, fullWaitTimeoutMs: 10_000 }));
    put(q, item());
    const first = q.offer(item()) as Promise<void>;
    expect(() => q.offer(item())).toThrow(QueueFullError);
    q.failWaiters(new Error('stop'));
    return expect(first).rejects.toThrow('stop');
  });

  it('keeps FIFO order for waiters even when room appears', async () => {
    const q = new BoundedQueue('q', config({ capacity: 1, fullPolicy: 'wait', fullWaitTimeoutMs: 10_000 }));
    put(q, item());
    const w1 = item();
    const p1 = q.offer(w1) as Promise<void>;
    q.shift(); // admits w1
    await p1;
    expect(q.peek()).toBe(w1);
  });

  it('puts a retried item back at the head even when full', () => {
    const q = new BoundedQueue('q', config({ capacity: 1 }));
    const a = item();
    const retried = item();
    put(q, a);
    q.unshift(retried);
    expect(q.depth).toBe(2);
    expect(q.shift()).toBe(retried);
  });

  it('applies a new capacity live', () => {
    const q = new BoundedQueue('q', config({ capacity: 1 }));
    put(q, item());
    expect(() => q.offer(item())).toThrow(QueueFullError);
    q.reconfigure(config({ capacity: 2 }));
    put(q, item());
    expect(q.depth).toBe(2);
    expect(q.capacity).toBe(2);
  });
});
