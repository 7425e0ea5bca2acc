import { describe, expect, it } from 'vitest';
import { freeAt, nextMsPerRow, pickWorker } from '../../src-main/engine/balancer.js';

const worker = (id: string, state: string, batches: [number, number][] = []) => ({
  id,
  state,
  inflight: new Map(batches.map(([dispatchedAt, rows], i) => [i, { dispatchedAt, rows }])),
});

describe('balancer', () => {
  it('picks the eligible worker expected to finish first', () => {
    const a = worker('a', 'ready', [[0, 100]]); // done at 100 (1 ms a row)
    const b = worker('b', 'ready', [[50, 10]]); // done at 60
    const c = worker('c', 'ready'); // idle
    expect(pickWorker([a, b, c], () => true, 1)?.id).toBe('c');
    expect(pickWorker([a, b, c], (w) => w !== c, 1)?.id).toBe('b');
    expect(pickWorker([a, b, c], () => false, 1)).toBeUndefined();
  });

  it('prefers a ready worker to a degraded one, however busy', () => {
    const busyReady = worker('ready', 'ready', [[0, 1000]]);
    const idleDegraded = worker('degraded', 'degraded');
    expect(pickWorker([idleDegraded, busyReady], () => true, 1)?.id).toBe('ready');
  });

  it('chains batches: a second batch starts when the first ends', () => {
    expect(
      freeAt(
        worker('w', 'ready', [
          [0, 10],
          [5, 10],
        ]),
        2,
      ),
    ).toBe(40); // 0+20, then max(20,5)+20
  });

  it('averages the time per row, the first batch setting it', () => {
    expect(nextMsPerRow(0, 10, 5)).toBe(2);
    expect(nextMsPerRow(2, 40, 10)).toBeCloseTo(2.2);
  });
});
