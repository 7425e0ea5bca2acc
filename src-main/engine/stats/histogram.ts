/**
 * Latency histograms. HdrHistogram (hdr-histogram-js) gives bounded memory and
 * accurate high percentiles at any rate, which a sorted sample buffer cannot.
 * Values are recorded in microseconds and reported in milliseconds.
 */
import * as hdr from 'hdr-histogram-js';
import { SecondRing, type Clock } from './window.js';

export interface LatencySummary {
  count: number;
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
}

const HIGHEST_US = 3_600_000_000; // one hour

// 32-bit counters are the fastest to record into and ample for a one-second bucket;
// the lifetime histogram, which only receives whole buckets, gets 64-bit ones.
function newHistogram(bitBucketSize: 32 | 64 = 32): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: HIGHEST_US, numberOfSignificantValueDigits: 3, bitBucketSize });
}

function clampUs(ms: number): number {
  const us = Math.round(ms * 1000);
  return us < 1 ? 1 : us > HIGHEST_US ? HIGHEST_US : us;
}

export function summarize(h: hdr.Histogram): LatencySummary {
  if (h.totalCount === 0) return { count: 0, meanMs: 0, p50Ms: 0, p95Ms: 0, p99Ms: 0, maxMs: 0 };
  return {
    count: h.totalCount,
    meanMs: h.mean / 1000,
    p50Ms: h.getValueAtPercentile(50) / 1000,
    p95Ms: h.getValueAtPercentile(95) / 1000,
    p99Ms: h.getValueAtPercentile(99) / 1000,
    maxMs: h.maxValue / 1000,
  };
}

/**
 * A rolling histogram over the last `windowSeconds` and a lifetime one. Each value is
 * recorded once, into the current second's bucket; a bucket is folded into the
 * lifetime histogram when its slot is reused, which halves the cost on the request path.
 */
export class LatencyHistogram {
  private readonly lifetimeHistogram = newHistogram(64);
  private readonly ring: SecondRing<hdr.Histogram>;
  private readonly merged = newHistogram(64);

  constructor(windowSeconds: number, clock?: Clock) {
    const foldAndReset = (h: hdr.Histogram) => {
      if (h.totalCount > 0) this.lifetimeHistogram.add(h);
      h.reset();
    };
    this.ring = new SecondRing(windowSeconds, () => newHistogram(32), foldAndReset, clock);
  }

  /** `nowMs` lets a caller recording many values share one clock read. */
  record(ms: number, count = 1, nowMs?: number): void {
    this.ring.current(nowMs).recordValueWithCount(clampUs(ms), count);
  }

  window(): LatencySummary {
    this.merged.reset();
    for (const h of this.ring.window().buckets) this.merged.add(h);
    return summarize(this.merged);
  }

  lifetime(): LatencySummary {
    this.merged.reset();
    this.merged.add(this.lifetimeHistogram);
    for (const h of this.ring.all()) this.merged.add(h); // buckets not yet folded
    return summarize(this.merged);
  }
}
