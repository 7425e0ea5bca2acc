import { describe, expect, it } from 'vitest';
import { chartRows, type Series } from '../../src-renderer/src/chart-rows.js';
import type { HistoryPoint } from '../../src-renderer/src/store.js';

const p99: Series = { key: 'p99', label: 'p99', value: (p) => p.p99Ms, color: '#000' };
const depth: Series = { key: 'depth', label: 'depth', value: (p) => p.depths.q ?? 0, color: '#000' };

/** Points every 250 ms (4 Hz) from `fromMs`, with the given p99 and queue depth. */
function history(count: number, fromMs = 0, p99At = (_i: number) => 1): HistoryPoint[] {
  return Array.from(
    { length: count },
    (_, i) => ({ t: fromMs + i * 250, p99Ms: p99At(i), depths: { q: i % 7 } }) as unknown as HistoryPoint,
  );
}

describe('chart rows', () => {
  it('draws a short history point for point', () => {
    const points = history(10);
    expect(chartRows(points, [p99, depth])).toEqual(points.map((p) => ({ t: p.t, p99: 1, depth: p.depths.q })));
  });

  it('draws a long history in at most the row limit, keeping every spike', () => {
    const points = history(1200, 0, (i) => (i === 733 ? 250 : 1)); // one spike in five minutes at 4 Hz
    const rows = chartRows(points, [p99, depth], 300, 300_000);
    expect(rows.length).toBeLessThanOrEqual(300);
    expect(rows.length).toBeGreaterThan(250);
    expect(rows.filter((r) => r.p99 === 250)).toHaveLength(1);
    expect(Math.max(...rows.map((r) => r.depth!))).toBe(6);
    expect(rows.at(-1)!.t).toBe(points.at(-1)!.t); // the newest point is where the line ends
  });

  it('keeps its buckets while the window slides, so the lines do not jitter', () => {
    const points = history(1300, 0, (i) => i);
    const before = chartRows(points.slice(0, 1200), [p99], 300, 300_000);
    const after = chartRows(points.slice(3, 1203), [p99], 300, 300_000); // three snapshots later
    // Every whole bucket present in both is drawn the same.
    const shared = after.slice(0, -1).filter((row) => before.slice(1, -1).some((b) => b.t === row.t));
    expect(shared.length).toBeGreaterThan(250);
    for (const row of shared) expect(before.find((b) => b.t === row.t)).toEqual(row);
  });
});
