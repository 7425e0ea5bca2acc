/**
 * Prometheus metrics of the engine, the repository's updater, the experience buffer, the
 * actors and the protocol servers, exposed through prom-client (its registry writes the
 * text format, HELP and TYPE lines and label escaping, and adds Node's process metrics).
 *
 * Nothing is counted twice: each metric reads, at scrape time, the counters the engine
 * already keeps for its snapshot (one frame per scrape, shared by every metric), so the
 * request path pays nothing for metrics. Triton's names are used where Triton has the
 * same metric (labelled `model` and `version`); `switchboard_*` names for the rest.
 * The one metric observed as it happens is the protocols' latency histogram.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Engine, VersionStatistics } from '../engine/index.js';
import type { ProtocolTraffic } from '../inference/protocol-traffic.js';
import { countEngineEvents, type EventCounts } from './event-counts.js';
import type { FrameMetric, Sample, ScrapeFrame } from './scrape-frame.js';
import { hostMetrics, type HostMetricSources } from './host-metrics.js';

export interface MetricsSources extends HostMetricSources {
  readonly engine: Engine;
  readonly traffic: readonly ProtocolTraffic[];
}

const us = (ns: number) => ns / 1000;

function* perVersion(frame: ScrapeFrame, value: (s: VersionStatistics) => number): Iterable<Sample> {
  for (const { model, versions } of frame.statistics) for (const v of versions) yield [{ model, version: String(v.version) }, value(v)];
}

/** Triton's per-model metrics (nv_inference_*), in Triton's units: counts, and cumulative microseconds. */
const TRITON_COUNTERS: readonly (readonly [string, string, (s: VersionStatistics) => number])[] = [
  ['nv_inference_request_success', 'Number of successful inference requests, all batch sizes', (s) => s.success.count],
  ['nv_inference_count', 'Number of inferences performed (each row of a batched request counts)', (s) => s.inferenceCount],
  ['nv_inference_exec_count', 'Number of model executions performed (a batch of many requests counts once)', (s) => s.executionCount],
  [
    'nv_inference_request_duration_us',
    'Cumulative inference request duration in microseconds, accepted to answered',
    (s) => us(s.success.ns + s.fail.ns),
  ],
  [
    'nv_inference_queue_duration_us',
    'Cumulative time requests spent waiting in the scheduling queue, in microseconds',
    (s) => us(s.queue.ns),
  ],
  [
    'nv_inference_compute_input_duration_us',
    'Cumulative compute input duration in microseconds (gathering a batch into its slot)',
    (s) => us(s.computeInput.ns),
  ],
  [
    'nv_inference_compute_infer_duration_us',
    'Cumulative compute inference duration in microseconds (the model run)',
    (s) => us(s.computeInfer.ns),
  ],
  [
    'nv_inference_compute_output_duration_us',
    'Cumulative compute output duration in microseconds (splitting outputs into answers)',
    (s) => us(s.computeOutput.ns),
  ],
];

const TRITON_METRICS: readonly FrameMetric[] = [
  ...TRITON_COUNTERS.map(([name, help, value]): FrameMetric => ({
    name,
    help,
    type: 'counter',
    labels: ['model', 'version'],
    read: (f) => perVersion(f, value),
  })),
  {
    name: 'nv_inference_request_failure',
    help: 'Number of failed inference requests, by reason (REJECTED: refused by a full queue, a rate limit or a drain; CANCELED; BACKEND: the model run failed; OTHER: timeouts)',
    type: 'counter',
    labels: ['model', 'version', 'reason'],
    *read(frame) {
      for (const { model, versions } of frame.statistics)
        for (const v of versions)
          for (const [reason, count] of Object.entries(v.failures)) yield [{ model, version: String(v.version), reason }, count];
    },
  },
  {
    name: 'nv_inference_pending_request_count',
    help: 'Instantaneous number of requests accepted and not yet answered (queued or running)',
    type: 'gauge',
    labels: ['model', 'version'],
    *read(frame) {
      for (const m of frame.engine.models) yield [{ model: m.name, version: String(m.version) }, m.requests.queued + m.requests.running];
    },
  },
];

/** Register the metrics on a fresh registry; `scrape()` takes one frame and writes the text format. */
export class SwitchboardMetrics {
  readonly registry = new Registry();
  private frame: ScrapeFrame | undefined;
  private readonly events: EventCounts;
  private lastScrapeSeconds = 0;

  constructor(private readonly sources: MetricsSources) {
    this.events = countEngineEvents(sources.engine);
    collectDefaultMetrics({ register: this.registry });
    // These three are gauges named like counters (prom-client's choice), which promtool rightly flags; the rest of Node's are kept.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'])
      this.registry.removeSingleMetric(name);
    for (const metric of [...TRITON_METRICS, ...hostMetrics(sources)]) this.add(metric);
    this.add({
      name: 'switchboard_scrape_duration_seconds',
      help: 'How long the previous scrape of this endpoint took to collect and write',
      type: 'gauge',
      labels: [],
      read: () => [[{}, this.lastScrapeSeconds]],
    });
    const latency = new Histogram({
      name: 'switchboard_protocol_request_duration_seconds',
      help: 'Inference requests over each protocol, from the first byte read to the answer written',
      labelNames: ['protocol'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [this.registry],
    });
    for (const traffic of sources.traffic) {
      const child = latency.labels({ protocol: traffic.protocol });
      traffic.onInferLatency((ms) => child.observe(ms / 1000));
    }
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  async scrape(): Promise<string> {
    const started = performance.now();
    const engine = this.sources.engine;
    const models = engine.modelNames();
    this.frame = {
      engine: engine.snapshot(0),
      statistics: models.map((model) => ({ model, versions: engine.statistics(model) })),
      events: this.events,
    };
    try {
      return await this.registry.metrics();
    } finally {
      this.frame = undefined;
      this.lastScrapeSeconds = (performance.now() - started) / 1000;
    }
  }

  stop(): void {
    this.events.stop();
  }

  private add(metric: FrameMetric): void {
    const read = () => (this.frame ? metric.read(this.frame) : []);
    const config = { name: metric.name, help: metric.help, labelNames: [...metric.labels], registers: [this.registry] };
    if (metric.type === 'gauge')
      new Gauge({
        ...config,
        collect() {
          this.reset();
          for (const [labels, value] of read()) this.set(labels, value);
        },
      });
    else
      new Counter({
        ...config,
        collect() {
          this.reset();
          for (const [labels, value] of read()) this.inc(labels, value);
        },
      });
  }
}
