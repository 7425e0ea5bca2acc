/**
 * What the experience service shows: its sampler settings and the snapshot a dashboard
 * draws (fill, rates, the rate limiter, distributions, checkpoints). Types and defaults
 * only, so the renderer and the host can share them without the service's code.
 */
import type { LatencySummary } from '../engine/stats/histogram.js';
import type { FieldSpec } from './buffer.js';
import type { CheckpointInfo } from './checkpoint.js';
import type { PolicyLagDistribution, PriorityDistribution } from './distributions.js';
import type { RateLimiterSpec } from './rate-limiter.js';
import type { SamplerKind } from './table.js';

export interface SamplerSettings {
  readonly sampler: SamplerKind;
  /** Prioritized: priority exponent. */
  readonly alpha: number;
  /** Prioritized: importance-sampling exponent. */
  readonly beta: number;
  /** Remove an item after this many samples (0: never). */
  readonly maxTimesSampled: number;
  /** Items per sampled batch. */
  readonly batchSize: number;
  /** The rate limiter's target samples per insert (SampleToInsertRatio). */
  readonly samplesPerInsert: number;
  /** Sampling waits until the table holds this many items. */
  readonly minSize: number;
}

export const DEFAULT_SAMPLER: SamplerSettings = {
  sampler: 'prioritized',
  alpha: 0.6,
  beta: 0.4,
  maxTimesSampled: 0,
  batchSize: 256,
  samplesPerInsert: 0.25,
  minSize: 1000,
};

export interface CheckpointStatus {
  dir: string | null;
  intervalMs: number;
  inProgress: boolean;
  last: (Omit<CheckpointInfo, 'path'> & { atMs: number; items: number }) | null;
  nextAtMs: number | null;
  error: string | null;
  restored: { atMs: number; items: number } | null;
}

export interface ExperienceSnapshot {
  capacity: number;
  size: number;
  bytes: number;
  /** Each field with the bytes its column takes. */
  fields: (FieldSpec & { bytes: number })[];
  inserted: number;
  sampled: number;
  dropped: number;
  insertsPerSecond: number;
  samplesPerSecond: number;
  staleUpdates: number;
  tornReads: number;
  removedBySampling: number;
  settings: SamplerSettings;
  limiter: {
    spec: RateLimiterSpec | null;
    /** What the limiter holds back right now. */
    holding: 'nothing' | 'samples' | 'inserts';
    sampleWaitMs: LatencySummary;
    sampleTimeouts: number;
    insertWaits: { waits: number; totalMs: number; timeouts: number };
  };
  /** Priorities of the items held, in log10 buckets. */
  priorities: PriorityDistribution | null;
  /** Active version minus the item's policy version, over the newest items. */
  policyLag: PolicyLagDistribution | null;
  checkpoint: CheckpointStatus;
  consumer: { batches: number; errors: number; lastError: string | null };
}
