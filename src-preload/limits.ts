/**
 * The limits every side shares: the model-name rule and the ranges of the settings an
 * operator can change. The engine's config schema, the updater's messages, the repository
 * layout and the dashboard's command schemas all build on these, so a value means the
 * same everywhere. This module imports nothing, so the renderer can bundle it and the
 * engine can read it without depending on the rest of the contract (.dependency-cruiser.cjs
 * keeps it so).
 */

/** A model's name: a directory name in the repository, a URL segment in the protocol. */
export const MODEL_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Rows in one run at most: the limit of maxBatchSize, and of a model's fixed dim 0. */
export const MAX_BATCH_ROWS = 4096;

export interface IntRange {
  readonly min: number;
  readonly max: number;
}

/** Integer ranges of the serving settings (engine config) that commands can also set. */
export const RANGES = {
  maxBatchSize: { min: 1, max: MAX_BATCH_ROWS },
  maxQueueDelayUs: { min: 0, max: 10_000_000 },
  queueCapacity: { min: 1, max: 1_000_000 },
  fullWaitTimeoutMs: { min: 1, max: 600_000 },
  queueTimeoutMs: { min: 0, max: 3_600_000 },
  workerCount: { min: 1, max: 64 },
  modelVersion: { min: 1, max: 999_999_999 },
} as const satisfies Record<string, IntRange>;
