import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { QueueSweep } from '../../src-main/engine/queue-sweep.js';

interface Queued {
  readonly id: string;
  readonly acceptedAt: number;
}

let queue: Queued[];
let expired: [string, number, number][];
let sweep: QueueSweep<Queued>;
let timeoutMs: number;

beforeEach(() => {
  vi.useFakeTimers();
  queue = [];
  expired = [];
  timeoutMs = 100;
  sweep = new QueueSweep(
    () => queue[0],
    () => timeoutMs,
    (request, ms) => {
      expired.push([request.id, ms, performance.now()]);
      queue.shift();
    },
  );
});
afterEach(() => {
  sweep.stop();
  vi.useRealTimers();
});

const accept = (id: string) => {
  queue.push({ id, acceptedAt: performance.now() });
  sweep.arm();
};

describe('QueueSweep (the queue timeout)', () => {
  it('rejects each request exactly when it has waited the timeout, oldest first, with one timer', () => {
    const t0 = performance.now();
    accept('a');
    vi.advanceTimersByTime(30);
    accept('b');
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(69);
    expect(expired).toEqual([]); // 99 ms: not yet
    vi.advanceTimersByTime(1);
    expect(expired).toEqual([['a', 100, t0 + 100]]);
    vi.advanceTimersByTime(29);
    expect(expired).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(expired.at(-1)).toEqual(['b', 100, t0 + 130]);
    expect(vi.getTimerCount()).toBe(0); // nothing queued: no timer left
  });

  it('follows the new head when the old one leaves early (answered), and never rejects it', () => {
    const t0 = performance.now();
    accept('answered');
    vi.advanceTimersByTime(50);
    accept('next');
    queue.shift(); // taken into a batch before its time
    vi.advanceTimersByTime(50); // the sweep comes for the old head and finds the new one not due
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(50);
    expect(expired).toEqual([['next', 100, t0 + 150]]);
  });

  it('takes no timeout when it is 0', () => {
    timeoutMs = 0;
    accept('a');
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(60_000);
    expect(expired).toEqual([]);
  });
});
