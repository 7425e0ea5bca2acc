/**
 * The `switchboard_*` metrics: what Triton has no name for. Queues, shared memory,
 * workers, the event loop, swaps, the updater, the experience buffer, the actors and the
 * protocols' traffic, each read from the scrape's frame or from the host's sources.
 */
import type { ActorPoolSnapshot } from '../actors/actor-pool.js';
import type { WorkerState } from '../engine/index.js';
import type { ExperienceSnapshot } from '../experience/service.js';
import type { ProtocolTraffic } from '../inference/protocol-traffic.js';
import type { SharedMemorySnapshot } from '../inference/shm/shared-memory-regions.js';
import type { RepositorySnapshot } from '../repository/coordinator.js';
import type { UpdaterState } from '../updater/supervisor.js';
import { COUNTED_EVENTS, type CountedEvent } from './event-counts.js';
import type { FrameMetric, Sample, ScrapeFrame } from './scrape-frame.js';

export interface HostMetricSources {
  /** The repository's coordinator and updater (absent when one file is served). */
  readonly repository?: () => RepositorySnapshot | null;
  readonly experience?: () => ExperienceSnapshot | null;
  readonly actors?: () => ActorPoolSnapshot | null;
  readonly traffic: readonly ProtocolTraffic[];
  /** Clients' system shared-memory regions (absent without an inference API). */
  readonly clientRegions?: () => SharedMemorySnapshot;
}

const WORKER_STATES: readonly WorkerState[] = ['starting', 'ready', 'degraded', 'dead', 'retiring', 'stopped'];
const UPDATER_STATES: readonly UpdaterState[] = ['starting', 'ready', 'degraded', 'dead', 'stopped'];

function gauge(name: string, help: string, labels: readonly string[], read: (frame: ScrapeFrame) => Iterable<Sample>): FrameMetric {
  return { name, help, type: 'gauge', labels, read };
}

/** A counter: its name gets Prometheus's `_total` (the text format does not add it; Triton's names are the only ones without it). */
function counter(name: string, help: string, labels: readonly string[], read: (frame: ScrapeFrame) => Iterable<Sample>): FrameMetric {
  return { name: `${name}_total`, help, type: 'counter', labels, read };
}

function* eventCount(frame: ScrapeFrame, kind: CountedEvent): Iterable<Sample> {
  for (const [model, count] of frame.events.counts.get(kind) ?? []) yield [{ model }, count];
}

const EVENT_HELP: Record<CountedEvent, string> = {
  'model-swapped': 'Hot swaps to another version that took effect',
  'swap-failed': 'Hot swaps that failed (the active version kept serving)',
  'worker-crashed': 'Inference worker threads that died',
  'worker-hung': 'Inference worker threads the watchdog declared hung',
  'worker-restarting': 'Inference worker restarts',
  'updater-restarting': 'Restarts of the model updater process',
  'version-validated': 'Model versions the updater validated',
  'version-invalid': 'Model versions the updater found invalid',
  'version-rejected': 'Valid model versions the engine refused to load',
};

export function hostMetrics(sources: HostMetricSources): FrameMetric[] {
  const once = <T>(read: () => T | null | undefined) => read() ?? undefined;
  const metrics: FrameMetric[] = [
    gauge('switchboard_queue_depth', 'Requests waiting in the model queue', ['model'], (f) =>
      f.engine.queues.map((q) => [{ model: q.model }, q.depth]),
    ),
    gauge('switchboard_queue_capacity', 'Requests the model queue holds at most', ['model'], (f) =>
      f.engine.queues.map((q) => [{ model: q.model }, q.capacity]),
    ),
    gauge('switchboard_queue_rows', 'Rows waiting in the model queue', ['model'], (f) =>
      f.engine.queues.map((q) => [{ model: q.model }, q.rows]),
    ),
    counter('switchboard_requests_refused', 'Requests refused before they were queued, by reason', ['model', 'reason'], function* (f) {
      for (const q of f.engine.queues) for (const [reason, count] of Object.entries(q.rejected)) yield [{ model: q.model, reason }, count];
    }),
    gauge(
      'switchboard_shared_memory_bytes',
      'Shared-memory arena bytes, by arena and measure (capacity, used, transfer: bytes of the runs in flight moved by transfer instead, high_water: of used plus transfer); kind is arena (rows), bytes (slots sized in bytes) or transfer (0-byte slots)',
      ['arena', 'kind', 'measure'],
      function* (f) {
        for (const a of f.engine.arenas) {
          yield [{ arena: a.name, kind: a.kind, measure: 'capacity' }, a.capacityBytes];
          yield [{ arena: a.name, kind: a.kind, measure: 'used' }, a.usedBytes];
          yield [{ arena: a.name, kind: a.kind, measure: 'transfer' }, a.transferBytes];
          yield [{ arena: a.name, kind: a.kind, measure: 'high_water' }, a.highWaterBytes];
        }
      },
    ),
    counter('switchboard_arena_runs', 'Runs that took a slot of the arena', ['arena', 'kind'], (f) =>
      f.engine.arenas.map((a) => [{ arena: a.name, kind: a.kind }, a.acquired]),
    ),
    counter(
      'switchboard_arena_transfer_runs',
      'Runs that moved any tensor by transfer because their slot could not hold it (strings always move so)',
      ['arena', 'kind'],
      (f) => f.engine.arenas.map((a) => [{ arena: a.name, kind: a.kind }, a.transferRuns]),
    ),
    gauge('switchboard_workers', 'Inference worker threads, by state', ['model', 'state'], function* (f) {
      const models = new Set(f.engine.workers.map((w) => w.model));
      for (const model of models)
        for (const state of WORKER_STATES)
          yield [{ model, state }, f.engine.workers.filter((w) => w.model === model && w.state === state).length];
    }),
    counter('switchboard_worker_restarts', 'Restarts of the inference worker slots now in the pool', ['model', 'worker'], (f) =>
      f.engine.workers.map((w) => [{ model: w.model, worker: w.id }, w.restarts]),
    ),
    gauge(
      'switchboard_worker_busy_ratio',
      'Share of wall time each worker spent computing over the statistics window',
      ['model', 'worker'],
      (f) => f.engine.workers.map((w) => [{ model: w.model, worker: w.id }, w.busyFraction]),
    ),
    gauge(
      'switchboard_event_loop_delay_seconds',
      "Delay of the engine thread's event loop over the statistics window (p50, p99, max)",
      ['statistic'],
      (f) => [
        [{ statistic: 'p50' }, f.engine.eventLoopDelayMs.p50Ms / 1000],
        [{ statistic: 'p99' }, f.engine.eventLoopDelayMs.p99Ms / 1000],
        [{ statistic: 'max' }, f.engine.eventLoopDelayMs.maxMs / 1000],
      ],
    ),
    gauge('switchboard_model_version_active', 'The version each model serves', ['model'], (f) =>
      f.engine.models.map((m) => [{ model: m.name }, m.version]),
    ),
    ...COUNTED_EVENTS.map((kind) =>
      counter(`switchboard_events_${kind.replaceAll('-', '_')}`, EVENT_HELP[kind], ['model'], (f) => eventCount(f, kind)),
    ),
  ];
  if (sources.repository)
    metrics.push(
      gauge('switchboard_updater_state', 'The model updater process state (1 for the state it is in)', ['state'], function* () {
        const state = once(sources.repository!)?.updater.state;
        for (const s of UPDATER_STATES) yield [{ state: s }, s === state ? 1 : 0];
      }),
      counter('switchboard_updater_restarts', 'Restarts of the model updater process', [], () => [
        [{}, once(sources.repository!)?.updater.restarts ?? 0],
      ]),
      gauge(
        'switchboard_repository_versions',
        'Model versions in the repository, by validation verdict',
        ['model', 'validation'],
        function* () {
          for (const m of once(sources.repository!)?.models ?? []) {
            const counts = new Map<string, number>();
            for (const v of m.versions) counts.set(v.validation, (counts.get(v.validation) ?? 0) + 1);
            for (const [validation, count] of counts) yield [{ model: m.name, validation }, count];
          }
        },
      ),
    );
  if (sources.experience) {
    const experience = () => once(sources.experience!);
    metrics.push(
      gauge('switchboard_experience_size', 'Items in the experience buffer', [], () => [[{}, experience()?.size ?? 0]]),
      gauge('switchboard_experience_capacity', 'Items the experience buffer holds at most', [], () => [[{}, experience()?.capacity ?? 0]]),
      counter('switchboard_experience_inserts', 'Items inserted into the experience buffer', [], () => [[{}, experience()?.inserted ?? 0]]),
      counter('switchboard_experience_samples', 'Items sampled from the experience buffer', [], () => [[{}, experience()?.sampled ?? 0]]),
      counter('switchboard_experience_rate_limiter_holds', 'Times the rate limiter held back an insert', [], () => [
        [{}, experience()?.limiter.insertWaits.waits ?? 0],
      ]),
      counter('switchboard_experience_sample_timeouts', 'Sample calls the rate limiter held past their timeout', [], () => [
        [{}, experience()?.limiter.sampleTimeouts ?? 0],
      ]),
    );
  }
  if (sources.actors) {
    const actors = () => once(sources.actors!);
    metrics.push(
      counter('switchboard_actor_steps', 'Environment steps taken by the actors', [], () => [[{}, actors()?.steps ?? 0]]),
      counter('switchboard_actor_episodes', 'Episodes the actors finished', [], () => [[{}, actors()?.episodes ?? 0]]),
      gauge('switchboard_actor_episode_return', 'Mean return of the latest 20 episodes', [], () => [[{}, actors()?.meanReturn ?? 0]]),
    );
  }
  if (sources.clientRegions) {
    const pool = sources.clientRegions;
    metrics.push(
      gauge('switchboard_client_shm_regions', "Clients' registered system shared-memory regions", [], () => [[{}, pool().regions.length]]),
      gauge(
        'switchboard_client_shm_bytes',
        "Bytes of clients' registered shared-memory regions, by measure (registered, in_use by requests in flight)",
        ['measure'],
        () => {
          const { regions, registeredBytes } = pool();
          return [
            [{ measure: 'registered' }, registeredBytes],
            [{ measure: 'in_use' }, regions.reduce((n, r) => n + r.inUseBytes, 0)],
          ];
        },
      ),
      gauge('switchboard_client_shm_descriptors', "Descriptors open on clients' shared-memory objects", [], () => [
        [{}, pool().descriptorsOpen],
      ]),
    );
  }
  metrics.push(
    counter('switchboard_protocol_requests', 'Requests answered over each protocol, by status', ['protocol', 'status'], function* () {
      for (const t of sources.traffic)
        for (const [status, count] of Object.entries(t.snapshot().byStatus)) yield [{ protocol: t.protocol, status }, count];
    }),
    gauge(
      'switchboard_protocol_open_connections',
      'Open client connections of each protocol server that sees them',
      ['protocol'],
      function* () {
        for (const t of sources.traffic) {
          const open = t.snapshot().openConnections;
          if (open !== null) yield [{ protocol: t.protocol }, open];
        }
      },
    ),
    gauge('switchboard_protocol_open_streams', 'Open streams of each protocol server (gRPC ModelStreamInfer)', ['protocol'], () =>
      sources.traffic.map((t) => [{ protocol: t.protocol }, t.snapshot().openStreams]),
    ),
  );
  return metrics;
}
