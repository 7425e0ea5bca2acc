/**
 * Latency histograms. HdrHistogram (hdr-histogram-js) gives bounded memory and
 * accurate high percentiles at any rate, which a sorted sample buffer cannot.
 * Values are recorded in microseconds and reported in milliseconds, to 2 significant
 * digits (1% resolution): enough for a dashboard, and ten times smaller to read.
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

const HIGHEST_US = 60_000_000; // one minute: longer latencies are recorded as one minute
const WINDOW_CACHE_MS = 50;
const LIFETIME_CACHE_MS = 1000;

// 32-bit counters are the fastest to record into and ample for a one-second bucket;
// the lifetime histogram, which only receives whole buckets, gets 64-bit ones.
function newHistogram(bitBucketSize: 32 | 64 = 32): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: HIGHEST_US, numberOfSignificantValueDigits: 2, bitBucketSize });
}

function clampUs(ms: number): number {
  const us = Math.round(ms * 1000);
  return us < 1 ? 1 : us > HIGHEST_US ? HIGHEST_US : us;
}

/**
 * Count, mean, p50/p95/p99 and max in one pass over the counts (the library's accessors
 * take a pass each), with the library's own index-to-value mapping and percentile rule.
 * The histograms come from `newHistogram`, which builds the JavaScript implementation.
 */
export function summarize(histogram: hdr.Histogram): LatencySummary {
  const h = histogram as hdr.JsHistogram;
  const total = h.totalCount;
  if (total === 0) return { count: 0, meanMs: 0, p50Ms: 0, p95Ms: 0, p99Ms: 0, maxMs: 0 };
  const percentiles = [50, 95, 99];
  const targets = percentiles.map((p) => Math.max(1, Math.floor((p / 100) * total + 0.5)));
  const values = [0, 0, 0];
  let next = 0;
  let cumulative = 0;
  let sum = 0;
  let lastValue = 0;
  for (let i = 0; i < h.countsArrayLength; i++) {
    const count = h.getCountAtIndex(i);
    if (count === 0) continue;
    const value = h.valueFromIndex(i);
    cumulative += count;
    sum += h.medianEquivalentValue(value) * count;
    lastValue = value;
    while (next < targets.length && cumulative >= targets[next]!) values[next++] = h.highestEquivalentValue(value);
    if (cumulative >= total) break;
  }
  return {
    count: total,
    meanMs: sum / total / 1000,
    p50Ms: values[0]! / 1000,
    p95Ms: values[1]! / 1000,
    p99Ms: values[2]! / 1000,
    maxMs: h.highestEquivalentValue(lastValue) / 1000,
  };
}

/**
 * A rolling histogram over the last `windowSeconds` and a lifetime one, cheap to read
 * several times a second: a running window total is kept beside the per-second buckets
 * (each value is recorded in both), and a bucket leaving the window is subtracted from
 * the total and folded into the lifetime histogram.
 */
export class LatencyHistogram {
  private readonly lifetimeHistogram = newHistogram(64);
  private readonly windowTotal = newHistogram(64);
  private readonly ring: SecondRing<hdr.Histogram>;
  private readonly merged = newHistogram(64);
  // Summaries iterate the whole histogram; a snapshot taken several times a second
  // reuses them briefly (the window's for 50 ms, the lifetime's for 1 s).
  private windowCache: { atMs: number; summary: LatencySummary } | undefined;
  private lifetimeCache: { atMs: number; summary: LatencySummary } | undefined;

  constructor(
    windowSeconds: number,
    private readonly clock: Clock = () => performance.now(),
  ) {
    const retire = (h: hdr.Histogram) => {
      if (h.totalCount > 0) {
        this.windowTotal.subtract(h);
        this.lifetimeHistogram.add(h);
      }
      h.reset();
    };
    this.ring = new SecondRing(windowSeconds, () => newHistogram(32), retire, this.clock);
  }

  /** `nowMs` lets a caller recording many values share one clock read. */
  record(ms: number, count = 1, nowMs?: number): void {
    const us = clampUs(ms);
    this.ring.current(nowMs).recordValueWithCount(us, count);
    this.windowTotal.recordValueWithCount(us, count);
  }

  window(): LatencySummary {
    const now = this.clock();
    if (this.windowCache && now - this.windowCache.atMs < WINDOW_CACHE_MS) return this.windowCache.summary;
    this.ring.expireStale(now);
    this.windowCache = { atMs: now, summary: summarize(this.windowTotal) };
    return this.windowCache.summary;
  }

  lifetime(): LatencySummary {
    const now = this.clock();
    if (this.lifetimeCache && now - this.lifetimeCache.atMs < LIFETIME_CACHE_MS) return this.lifetimeCache.summary;
    this.merged.reset();
    this.merged.add(this.lifetimeHistogram);
    this.merged.add(this.windowTotal); // values not yet folded into the lifetime histogram
    this.lifetimeCache = { atMs: now, summary: summarize(this.merged) };
    return this.lifetimeCache.summary;
  }
}
