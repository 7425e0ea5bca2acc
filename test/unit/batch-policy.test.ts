import { describe, expect, it } from 'vitest';
import { decideBatch, RecentPeak, type BatchInputs } from '../../src-main/engine/batch-policy.js';

const base: BatchInputs = {
  queuedRows: 0,
  outstandingRows: 0,
  pipelineSlots: 4,
  maxRows: 128,
  maxBatchSize: 128,
  preferredBatchSizes: [],
  workerIdle: true,
  oldestWaitedUs: 0,
  maxQueueDelayUs: 500,
  flushAll: false,
};

describe('decideBatch', () => {
  it('dispatches a batch as soon as the queue holds its share of the outstanding rows', () => {
    expect(decideBatch({ ...base, queuedRows: 64, outstandingRows: 256 })).toEqual({ kind: 'dispatch', rows: 64 });
    expect(decideBatch({ ...base, queuedRows: 63, outstandingRows: 256 })).toEqual({ kind: 'wait', untilRows: 64, flushInUs: 500 });
  });

  it('caps the share at the max batch size and the arena', () => {
    expect(decideBatch({ ...base, queuedRows: 3000, outstandingRows: 4000, maxBatchSize: 100 })).toEqual({ kind: 'dispatch', rows: 100 });
    expect(decideBatch({ ...base, queuedRows: 3000, outstandingRows: 4000, maxRows: 32 })).toEqual({ kind: 'dispatch', rows: 32 });
  });

  it('sends a lone request at once when there is nothing else outstanding', () => {
    expect(decideBatch({ ...base, queuedRows: 1, outstandingRows: 1 })).toEqual({ kind: 'dispatch', rows: 1 });
  });

  it('hands a partial batch to an idle worker once the oldest request has waited the max delay', () => {
    const partial = { ...base, queuedRows: 10, outstandingRows: 256 };
    expect(decideBatch({ ...partial, oldestWaitedUs: 200 })).toEqual({ kind: 'wait', untilRows: 64, flushInUs: 300 });
    expect(decideBatch({ ...partial, oldestWaitedUs: 500 })).toEqual({ kind: 'dispatch', rows: 64 });
  });

  it('never queues a partial batch behind a busy worker, however long it waited: the worker asks again when it finishes', () => {
    const partial = { ...base, queuedRows: 10, outstandingRows: 256, workerIdle: false, oldestWaitedUs: 10_000 };
    expect(decideBatch(partial)).toEqual({ kind: 'wait', untilRows: 64, flushInUs: null });
    // A full share still fills the worker's next slot, which is what keeps it busy.
    expect(decideBatch({ ...partial, queuedRows: 64 })).toEqual({ kind: 'dispatch', rows: 64 });
  });

  it('sends whatever is queued while draining or stopping', () => {
    expect(decideBatch({ ...base, queuedRows: 5, outstandingRows: 256, workerIdle: false, flushAll: true })).toEqual({
      kind: 'dispatch',
      rows: 64,
    });
  });

  it('rounds down to the largest preferred size that fits, and waits for the next preferred size otherwise', () => {
    const preferred = { ...base, preferredBatchSizes: [8, 32], outstandingRows: 256 };
    expect(decideBatch({ ...preferred, queuedRows: 40 })).toEqual({ kind: 'dispatch', rows: 32 });
    expect(decideBatch({ ...preferred, queuedRows: 5 })).toEqual({ kind: 'wait', untilRows: 8, flushInUs: 500 });
  });
});

describe('RecentPeak', () => {
  it('remembers the largest value for one to two periods, then forgets it', () => {
    let now = 0;
    const peak = new RecentPeak(50, () => now);
    expect(peak.observe(256)).toBe(256);
    now = 30;
    expect(peak.observe(40)).toBe(256); // same period
    now = 60;
    expect(peak.observe(40)).toBe(256); // the previous period's peak still counts
    now = 115;
    expect(peak.observe(40)).toBe(40); // two periods on, only recent values count
  });

  it('forgets everything after a quiet spell with no observation', () => {
    let now = 0;
    const peak = new RecentPeak(50, () => now);
    peak.observe(300);
    now = 1000;
    expect(peak.observe(2)).toBe(2);
  });
});
