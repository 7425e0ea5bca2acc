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

  it('admits several waiters first-come first-served, one per freed place, and counts each as having waited', async () => {
    const q = new BoundedQueue('q', config({ capacity: 2, fullPolicy: 'wait', fullWaitTimeoutMs: 10_000 }));
    const [a, b] = [item(), item()];
    put(q, a);
    put(q, b);
    const waiters = [item(), item(), item()];
    const admitted: number[] = [];
    const offers = waiters.map((w) => (q.offer(w) as Promise<void>).then(() => admitted.push(w.id)));
    expect(q.counters.waitedForRoom).toBe(3);
    expect(q.waiting).toBe(3);
    q.shift(); // one place: only the oldest waiter may take it
    expect(q.waiting).toBe(2);
    expect(waiters.map((w) => w.inQueue)).toEqual([true, false, false]);
    expect(q.depth).toBe(2);
    q.shift();
    q.shift();
    await Promise.all(offers);
    expect(admitted).toEqual(waiters.map((w) => w.id));
    expect([...q.live(10)]).toEqual(waiters.slice(1));
    expect(q.counters).toMatchObject({ enqueued: 5, dequeued: 3, rejectedFull: 0 });
  });

  it('counts a waiter that timed out as refused, says how long it waited, and admits the next one in its place', async () => {
    vi.useFakeTimers();
    vi.advanceTimersByTime(10_000); // the fake clock starts at 0: move it, so a wait is a difference of two times
    const q = new BoundedQueue('q', config({ capacity: 1, fullPolicy: 'wait', fullWaitTimeoutMs: 50 }));
    put(q, item());
    const first = (q.offer(item()) as Promise<void>).then(
      () => 'admitted',
      (e: unknown) => e,
    );
    vi.advanceTimersByTime(30);
    const second = item();
    const secondOffer = q.offer(second) as Promise<void>;
    vi.advanceTimersByTime(21); // the first times out at 50 ms; the second has waited 21
    const error = await first;
    expect(error).toBeInstanceOf(QueueFullError);
    expect((error as QueueFullError).message).toBe('queue "q" stayed full (capacity 1) for 50 ms');
    expect(q.counters.rejectedFull).toBe(1);
    expect(q.waiting).toBe(1);
    q.shift();
    await secondOffer;
    expect(second.inQueue).toBe(true);
    expect(q.counters.rejectedFull).toBe(1);
  });

  it('refuses at once, and counts it, when the waiters are at their bound', () => {
    const q = new BoundedQueue('q', config({ capacity: 1, fullPolicy: 'wait', maxWaiters: 1, fullWaitTimeoutMs: 10_000 }));
    put(q, item());
    const waiting = q.offer(item()) as Promise<void>;
    expect(() => q.offer(item())).toThrow('queue "q" is full (capacity 1)');
    expect(q.counters).toMatchObject({ rejectedFull: 1, waitedForRoom: 1 });
    q.failWaiters(new Error('stop'));
    return expect(waiting).rejects.toThrow('stop');
  });

  it('keeps the high-water mark at the deepest the queue has been', () => {
    const q = new BoundedQueue('q', config({ capacity: 10 }));
    for (let i = 0; i < 3; i++) put(q, item());
    q.shift();
    q.shift();
    put(q, item());
    expect(q.depth).toBe(2);
    expect(q.highWater).toBe(3);
  });

  it('keeps order and loses nothing across thousands of items (the backing array is compacted as the head advances)', () => {
    const q = new BoundedQueue('q', config({ capacity: 5000 }));
    const all = Array.from({ length: 3000 }, () => item());
    for (const it of all.slice(0, 2000)) put(q, it);
    const taken = [];
    for (let i = 0; i < 1500; i++) taken.push(q.shift());
    for (const it of all.slice(2000)) put(q, it);
    q.unshift(taken.pop()!); // a retry goes back in front of everything still queued
    for (let it = q.shift(); it; it = q.shift()) taken.push(it);
    expect(taken).toEqual(all);
    expect(q.depth).toBe(0);
  });

  it('gives back the places of what it handed out: compacted once the spent head is over 1,024 and half the array', () => {
    const q = new BoundedQueue('q', config({ capacity: 5000 }));
    const internal = (queue: BoundedQueue<Queueable>) => queue.heldSlots;
    for (let i = 0; i < 3000; i++) put(q, item());
    for (let i = 0; i < 1500; i++) q.shift();
    expect(internal(q)).toBe(3000); // head 1500: not yet past half of 3000
    q.shift();
    expect(internal(q)).toBe(1499); // head 1501: the spent places are dropped
    const edge = new BoundedQueue('e', config({ capacity: 5000 }));
    for (let i = 0; i < 2000; i++) put(edge, item());
    for (let i = 0; i < 1024; i++) edge.shift();
    expect(internal(edge)).toBe(2000); // a spent head of exactly 1,024 is kept
    edge.shift();
    expect(internal(edge)).toBe(975);
    const small = new BoundedQueue('s', config({ capacity: 20 }));
    for (let i = 0; i < 10; i++) put(small, item());
    for (let i = 0; i < 6; i++) small.shift();
    expect(internal(small)).toBe(10); // a short queue is not copied for a few spent places
    for (let i = 0; i < 4; i++) small.shift();
    expect(internal(small)).toBe(0); // emptied: the array starts again
  });

  it('puts a retried item back at the head even when full, counting its rows again', () => {
    const q = new BoundedQueue('q', config({ capacity: 1 }));
    const a = item(2);
    const retried = item(3);
    put(q, a);
    q.unshift(retried);
    expect(q.depth).toBe(2);
    expect(q.rows).toBe(5);
    expect(q.counters.enqueued).toBe(2);
    expect(q.shift()).toBe(retried);
    expect(q.shift()).toBe(a);
  });

  it('puts a retried item back at the head after others were taken (the head has moved on)', () => {
    const q = new BoundedQueue('q', config({ capacity: 3 }));
    const [a, b, c, retried] = [item(), item(), item(), item()];
    put(q, a);
    put(q, b);
    put(q, c);
    expect(q.shift()).toBe(a);
    q.unshift(retried);
    expect([...q.live(10)]).toEqual([retried, b, c]);
    expect(q.shift()).toBe(retried);
    expect(q.shift()).toBe(b);
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
