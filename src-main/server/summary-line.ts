/**
 * The one-line status the headless engine prints every second: what an operator
 * checks first (throughput, latency split into queue and compute, queue fill, worker
 * health, shared memory, event-loop delay), from one snapshot.
 */
import type { EngineSnapshot } from '../engine/index.js';
import type { RepositorySnapshot } from '../repository/coordinator.js';
import { bytes, count, ms } from '../../src-preload/format.js';

export function summaryLine(snapshot: EngineSnapshot, repository?: RepositorySnapshot | null): string {
  const parts: string[] = [new Date(snapshot.timeMs).toISOString().slice(11, 19)];
  if (snapshot.models.length === 0)
    parts.push(repository ? 'no model loaded yet (waiting for a valid version in the repository)' : 'no model loaded');
  for (const model of snapshot.models) {
    const queue = snapshot.queues.find((q) => q.model === model.name);
    const workers = snapshot.workers.filter((w) => w.model === model.name);
    const ready = workers.filter((w) => w.state === 'ready').length;
    const unhealthy = workers.filter((w) => w.state !== 'ready').map((w) => `${w.id} ${w.state}`);
    const l = model.latencyMs;
    parts.push(
      `${model.name} v${model.version}`,
      `${count(model.requestsPerSecond)} req/s ${count(model.rowsPerSecond)} rows/s`,
      `batch ${model.meanBatchRows.toFixed(1)}`,
      `p50 ${ms(l.total.p50Ms)} p99 ${ms(l.total.p99Ms)} ms (queue ${ms(l.queue.p99Ms)} compute ${ms(l.compute.p99Ms)})`,
      queue ? `queue ${count(queue.depth)}/${count(queue.capacity)}${queue.paused ? ' paused' : ''}` : 'queue -',
      `workers ${ready}/${workers.length} ready${unhealthy.length ? ` (${unhealthy.join(', ')})` : ''}`,
    );
    const failures = model.requests.failed + model.requests.timedOut + (queue ? queue.rejected.full + queue.rejected.rateLimited : 0);
    if (failures > 0) parts.push(`refused/failed ${count(failures)}`);
  }
  parts.push(`arena ${bytes(snapshot.arenaTotals.usedBytes)}/${bytes(snapshot.arenaTotals.capacityBytes)}`);
  parts.push(`loop p99 ${ms(snapshot.eventLoopDelayMs.p99Ms)} ms`);
  if (repository) parts.push(updaterPart(repository));
  return parts.join(' | ');
}

function updaterPart(repository: RepositorySnapshot): string {
  const u = repository.updater;
  const states = repository.models.flatMap((m) =>
    m.versions.filter((v) => v.validation !== 'valid').map((v) => `${m.name} v${v.version} ${v.validation}`),
  );
  return `updater ${u.state}${u.restarts > 0 ? ` (${u.restarts} restarts)` : ''}${states.length ? `: ${states.slice(-3).join(', ')}` : ''}`;
}
