/**
 * The distributions the Experience page draws: priorities of the items a table holds
 * (log10 buckets), and policy lag (active version minus the version that chose the
 * item) over the newest items.
 */
import type { ExperienceBuffer } from './buffer.js';

export interface PriorityDistribution {
  buckets: { from: number; to: number; count: number }[];
  min: number;
  max: number;
  mean: number;
}

export interface PolicyLagDistribution {
  buckets: { lag: string; count: number }[];
  mean: number;
  max: number;
}

/** Active version minus each item's policy version, over the newest `window` items. */
export function policyLagBuckets(buffer: ExperienceBuffer, active: number, window: number): PolicyLagDistribution | null {
  const { committed } = buffer.counts();
  const first = Math.max(buffer.firstLiveIndex(), committed - window);
  const versions = buffer.columns.get('policy_version');
  if (!versions || committed <= first) return null;
  const labels = ['0', '1', '2', '3', '4', '5-9', '10+'];
  const counts = new Array<number>(labels.length).fill(0);
  let sum = 0;
  let max = 0;
  for (let i = first; i < committed; i++) {
    const lag = Math.max(0, active - versions[i % buffer.capacity]!);
    sum += lag;
    max = Math.max(max, lag);
    counts[lag < 5 ? lag : lag < 10 ? 5 : 6]!++;
  }
  return { buckets: labels.map((lag, i) => ({ lag, count: counts[i]! })), mean: sum / (committed - first), max };
}

/** Log10 buckets from the smallest to the largest priority held. */
export function priorityBuckets(priorities: Float64Array): PriorityDistribution | null {
  if (priorities.length === 0) return null;
  let min = Infinity;
  let max = 0;
  let sum = 0;
  for (const p of priorities) {
    min = Math.min(min, p);
    max = Math.max(max, p);
    sum += p;
  }
  const low = Math.floor(Math.log10(min));
  const high = Math.max(low + 1, Math.ceil(Math.log10(max) + 1e-12));
  const buckets = Array.from({ length: high - low }, (_, i) => ({ from: 10 ** (low + i), to: 10 ** (low + i + 1), count: 0 }));
  for (const p of priorities) buckets[Math.min(buckets.length - 1, Math.floor(Math.log10(p)) - low)]!.count++;
  return { buckets, min, max, mean: sum / priorities.length };
}
