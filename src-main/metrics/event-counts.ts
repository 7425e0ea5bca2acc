/**
 * Counts of the engine's events that Prometheus wants as counters (swaps, worker crashes
 * and hangs, validations): the event log is a bounded ring and the snapshot keeps only
 * the latest swaps, so the counts are kept here, from the events as they happen.
 */
import type { Engine, EventKind } from '../engine/index.js';

export const COUNTED_EVENTS = [
  'model-swapped',
  'swap-failed',
  'worker-crashed',
  'worker-hung',
  'worker-restarting',
  'updater-restarting',
  'version-validated',
  'version-invalid',
  'version-rejected',
] as const satisfies readonly EventKind[];

export type CountedEvent = (typeof COUNTED_EVENTS)[number];

export interface EventCounts {
  /** Per kind, per model ("" for events of no model). */
  readonly counts: ReadonlyMap<CountedEvent, ReadonlyMap<string, number>>;
  stop(): void;
}

export function countEngineEvents(engine: Engine): EventCounts {
  const counts = new Map<CountedEvent, Map<string, number>>(COUNTED_EVENTS.map((kind) => [kind, new Map()]));
  const stop = engine.onEvent((event) => {
    const perModel = counts.get(event.kind as CountedEvent);
    if (!perModel) return;
    const model = event.model ?? '';
    perModel.set(model, (perModel.get(model) ?? 0) + 1);
  });
  return { counts, stop };
}
