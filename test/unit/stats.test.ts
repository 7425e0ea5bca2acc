import { describe, expect, it } from 'vitest';
import * as hdr from 'hdr-histogram-js';
import { LatencyHistogram } from '../../src-main/engine/stats/histogram.js';
import { mulberry32 } from '../../src-main/util/prng.js';
import { WindowedCounter } from '../../src-main/engine/stats/window.js';

function clock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('WindowedCounter', () => {
  it('reports a per-second rate over the window and a lifetime total', () => {
    const c = clock();
    const counter = new WindowedCounter(5, c.now);
    for (let s = 0; s < 5; s++) {
      counter.add(100);
      c.advance(1000);
    }
    expect(counter.ratePerSecond()).toBeCloseTo(100, 5);
    expect(counter.total).toBe(500);
  });

  it('forgets seconds that left the window', () => {
    const c = clock();
    const counter = new WindowedCounter(3, c.now);
    counter.add(1000);
    c.advance(10_000);
    counter.add(30);
    c.advance(1000);
    expect(counter.ratePerSecond()).toBeCloseTo(30, 9); // the 30 of the last second only: the 1000 of ten seconds ago is gone
    expect(counter.total).toBe(1030);
  });
});

describe('LatencyHistogram', () => {
  it('reports windowed percentiles and keeps the lifetime across rotations', () => {
    const c = clock();
    const h = new LatencyHistogram(2, c.now);
    for (let i = 1; i <= 100; i++) h.record(i); // 1..100 ms
    expect(h.window().count).toBe(100);
    expect(h.window().p50Ms).toBeCloseTo(50, 0);
    expect(h.window().p99Ms).toBeCloseTo(99, 0);
    c.advance(5000);
    h.record(500);
    const window = h.window();
    expect(window.count).toBe(1);
    expect(Math.abs(window.maxMs - 500)).toBeLessThan(5); // 2 significant digits: 1% resolution
    const lifetime = h.lifetime();
    expect(lifetime.count).toBe(101);
    expect(Math.abs(lifetime.maxMs - 500)).toBeLessThan(5);
    // Reading lifetime twice must not double-count buckets not yet folded.
    expect(h.lifetime().count).toBe(101);
    for (let s = 0; s < 10; s++) {
      c.advance(1000);
      h.record(1, 10);
    }
    expect(h.lifetime().count).toBe(201);
  });

  it('forgets a slow outlier once it has left the window', () => {
    const c = clock();
    const h = new LatencyHistogram(2, c.now);
    h.record(900);
    c.advance(5000);
    h.record(1);
    expect(h.window().maxMs).toBeLessThan(1.1);
    expect(h.lifetime().maxMs).toBeGreaterThan(890);
  });

  it('reports what the library computes from the same values (its WebAssembly build against its JavaScript one)', () => {
    const reference = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 2 });
    expect(reference).toBeInstanceOf(hdr.JsHistogram);
    const h = new LatencyHistogram(5);
    const random = mulberry32(42);
    for (let i = 0; i < 20_000; i++) {
      const us = 1 + Math.floor(random() ** 3 * 2_000_000);
      reference.recordValue(us);
      h.record(us / 1000);
    }
    for (const s of [h.window(), h.lifetime()]) {
      expect(s.count).toBe(20_000);
      expect(s.p50Ms).toBe(reference.getValueAtPercentile(50) / 1000);
      expect(s.p95Ms).toBe(reference.getValueAtPercentile(95) / 1000);
      expect(s.p99Ms).toBe(reference.getValueAtPercentile(99) / 1000);
      expect(s.meanMs).toBeCloseTo(reference.mean / 1000, 6);
      expect(s.maxMs).toBe(reference.getValueAtPercentile(100) / 1000);
    }
  });

  it('records a value many times at once', () => {
    const h = new LatencyHistogram(5);
    h.record(2, 50);
    expect(h.window()).toMatchObject({ count: 50 });
    expect(h.window().meanMs).toBeCloseTo(2, 2);
  });
});
