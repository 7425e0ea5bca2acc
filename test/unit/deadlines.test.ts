import { afterEach, describe, expect, it, vi } from 'vitest';
import { DeadlineScheduler } from '../../src-main/engine/deadlines.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('DeadlineScheduler', () => {
  it('fires deadlines in time order with one timer, and never fires a cancelled one', () => {
    vi.useFakeTimers();
    const fired: string[] = [];
    const scheduler = new DeadlineScheduler(() => Date.now());
    const t0 = Date.now();
    scheduler.add(t0 + 30, () => fired.push('c'));
    const b = scheduler.add(t0 + 20, () => fired.push('b'));
    scheduler.add(t0 + 10, () => fired.push('a'));
    scheduler.add(t0 + 40, () => fired.push('d'));
    scheduler.cancel(b);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(35);
    expect(fired).toEqual(['a', 'c']);
    vi.advanceTimersByTime(10);
    expect(fired).toEqual(['a', 'c', 'd']);
    expect(scheduler.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('keeps heap order through many random adds and cancels', () => {
    vi.useFakeTimers();
    const scheduler = new DeadlineScheduler(() => Date.now());
    const t0 = Date.now();
    const fired: number[] = [];
    const entries = Array.from({ length: 500 }, (_, i) => {
      const at = t0 + ((i * 7919) % 1000) + 1;
      return { at, entry: scheduler.add(at, () => fired.push(at)) };
    });
    const cancelled = new Set<number>();
    entries.forEach((e, i) => {
      if (i % 3 === 0) {
        scheduler.cancel(e.entry);
        cancelled.add(i);
      }
    });
    vi.advanceTimersByTime(2000);
    const expected = entries
      .filter((_, i) => !cancelled.has(i))
      .map((e) => e.at)
      .sort((a, b) => a - b);
    expect(fired).toEqual(expected);
  });

  it('clear() drops every deadline and the timer', () => {
    vi.useFakeTimers();
    const scheduler = new DeadlineScheduler(() => Date.now());
    let fired = 0;
    scheduler.add(Date.now() + 5, () => fired++);
    scheduler.clear();
    vi.advanceTimersByTime(10);
    expect(fired).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('DeadlineScheduler refuses what would jam it', () => {
  it('refuses a non-finite deadline, and one refused deadline delays no other', () => {
    vi.useFakeTimers();
    const scheduler = new DeadlineScheduler(() => Date.now());
    const t0 = Date.now();
    const fired: string[] = [];
    scheduler.add(t0 + 20, () => fired.push('later'));
    for (const bad of [Number.NaN, Infinity, -Infinity]) expect(() => scheduler.add(bad, () => fired.push('bad'))).toThrow(RangeError);
    scheduler.add(t0 + 10, () => fired.push('sooner'));
    expect(scheduler.size).toBe(2); // nothing of the refused ones is in the heap
    vi.advanceTimersByTime(10);
    expect(fired).toEqual(['sooner']);
    vi.advanceTimersByTime(10);
    expect(fired).toEqual(['sooner', 'later']);
    expect(vi.getTimerCount()).toBe(0); // no timer left spinning
  });
});
