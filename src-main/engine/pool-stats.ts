/**
 * The pool's statistics as the snapshot shows them: one row per worker that has not
 * stopped, and the arenas they hold. Read-only views of the handles.
 */
import type { ArenaStats } from './arena.js';
import type { EngineClock } from './clock.js';
import type { WorkerStats } from './snapshot.js';
import type { InflightBatch, WorkerHandle } from './worker-handle.js';
import { Status } from './worker/protocol.js';

export function workerStats<B extends InflightBatch>(
  model: string,
  handles: readonly WorkerHandle<B>[],
  clock: EngineClock,
): WorkerStats[] {
  return handles
    .filter((h) => h.state !== 'stopped')
    .map((h) => {
      const totals = h.totals();
      const heartbeat = h.read(Status.heartbeatMs);
      return {
        id: h.id,
        model,
        state: h.state,
        threadId: h.thread?.threadId ?? null,
        incarnation: h.incarnation,
        restarts: h.restarts,
        inflightBatches: h.inflightCount,
        batches: totals.batches,
        rows: totals.rows,
        busyMs: totals.busyUs / 1000,
        busyFraction: h.busyFraction(totals.busyUs),
        heartbeatAgeMs: heartbeat > 0 ? Math.max(0, clock.epochMs() - heartbeat) : null,
        uptimeMs: h.uptimeMs,
        versions: h.loadedList(),
        loading: h.loading,
        lastError: h.lastError,
      };
    });
}

export function arenaStats<B extends InflightBatch>(handles: readonly WorkerHandle<B>[]): ArenaStats[] {
  return handles.filter((h) => h.state !== 'stopped').flatMap((h) => h.slotSources().map((a) => a.stats()));
}
