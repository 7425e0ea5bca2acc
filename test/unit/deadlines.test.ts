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

describe('DeadlineScheduler keeps its one timer honest', () => {
  it('arms a timer only for a new earliest deadline, and wakes once when it is due, not before', () => {
    vi.useFakeTimers();
    const armed = vi.spyOn(globalThis, 'setTimeout');
    const scheduler = new DeadlineScheduler(() => Date.now());
    const t0 = Date.now();
    const fired: string[] = [];
    scheduler.add(t0 + 30, () => fired.push('first'));
    scheduler.add(t0 + 40, () => fired.push('later')); // later than the armed one: no new timer
    scheduler.add(t0 + 30, () => fired.push('same time')); // not earlier either
    expect(armed).toHaveBeenCalledTimes(1);
    expect(armed.mock.calls[0]![1]).toBe(30);
    vi.advanceTimersByTime(29);
    expect(fired).toEqual([]);
    expect(armed).toHaveBeenCalledTimes(1); // no polling while it waits
    vi.advanceTimersByTime(1);
    expect(fired.sort()).toEqual(['first', 'same time']);
    expect(armed).toHaveBeenCalledTimes(2); // re-armed once, for the one left
    expect(armed.mock.calls[1]![1]).toBe(10);
  });

  it('cancelling twice, or after clear(), removes nothing else', () => {
    vi.useFakeTimers();
    const scheduler = new DeadlineScheduler(() => Date.now());
    const t0 = Date.now();
    const fired: number[] = [];
    const entries = [10, 20, 30, 40].map((d) => scheduler.add(t0 + d, () => fired.push(d)));
    scheduler.cancel(entries[1]!);
    expect(entries[1]!.index).toBe(-1);
    scheduler.cancel(entries[1]!);
    expect(scheduler.size).toBe(3);
    vi.advanceTimersByTime(50);
    expect(fired).toEqual([10, 30, 40]);

    const old = scheduler.add(Date.now() + 10, () => fired.push(-1));
    scheduler.clear();
    expect(old.index).toBe(-1);
    expect(vi.getTimerCount()).toBe(0); // clear() took the armed timer away at once
    scheduler.cancel(old);
    scheduler.add(Date.now() + 5, () => fired.push(5));
    expect(scheduler.size).toBe(1);
    vi.advanceTimersByTime(20);
    expect(fired).toEqual([10, 30, 40, 5]);
  });

  it('says what it refused', () => {
    expect(() => new DeadlineScheduler().add(Number.NaN, () => undefined)).toThrow('a deadline must be a finite time, got NaN');
  });
});
