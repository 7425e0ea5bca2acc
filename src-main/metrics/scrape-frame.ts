/**
 * What one scrape of the metrics reads (taken once, shared by every metric), and the shape
 * of a metric whose samples come from it.
 */
import type { EngineSnapshot, VersionStatistics } from '../engine/index.js';
import type { EventCounts } from './event-counts.js';

/** What one scrape reads: taken once, read by every metric. */
export interface ScrapeFrame {
  readonly engine: EngineSnapshot;
  readonly statistics: readonly { readonly model: string; readonly versions: readonly VersionStatistics[] }[];
  readonly events: EventCounts;
}

export type Sample = readonly [Record<string, string>, number];
export type Read = (frame: ScrapeFrame) => Iterable<Sample>;

/** A gauge or counter whose samples are read from the scrape's frame. */
export interface FrameMetric {
  readonly name: string;
  readonly help: string;
  readonly type: 'gauge' | 'counter';
  readonly labels: readonly string[];
  readonly read: Read;
}
