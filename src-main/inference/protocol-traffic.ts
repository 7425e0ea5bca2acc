/**
 * What each protocol's clients do, as the Endpoints page and the metrics show it:
 * requests (and their rate), answers by status, latency of inference requests and open
 * connections. One instance per protocol server, written on the engine's thread only.
 */
import { LatencyHistogram, type LatencySummary } from '../engine/stats/histogram.js';
import { WindowedCounter } from '../engine/stats/window.js';

export type ProtocolName = 'http' | 'grpc';

export interface ProtocolTrafficSnapshot {
  readonly protocol: ProtocolName;
  readonly requests: number;
  readonly requestsPerSecond: number;
  readonly inferRequests: number;
  /** Answers by status (HTTP status, or gRPC code name), successes included. */
  readonly byStatus: Readonly<Record<string, number>>;
  /** Answers that were errors. */
  readonly errors: number;
  /** Inference requests, from the first byte read to the last written, over the window. */
  readonly inferLatencyMs: LatencySummary;
  /** Open connections; null where the server does not see them (grpc-js keeps its own). */
  readonly openConnections: number | null;
  /** Open streams (gRPC's ModelStreamInfer); 0 over HTTP. */
  readonly openStreams: number;
}

export class ProtocolTraffic {
  private requests = 0;
  private inferRequests = 0;
  private errors = 0;
  private open = 0;
  private streams = 0;
  private readonly byStatus = new Map<string, number>();
  private readonly rate: WindowedCounter;
  private readonly latency: LatencyHistogram;
  private readonly latencyListeners: ((ms: number) => void)[] = [];

  constructor(
    readonly protocol: ProtocolName,
    windowSeconds = 10,
  ) {
    this.rate = new WindowedCounter(windowSeconds);
    this.latency = new LatencyHistogram(windowSeconds);
  }

  connectionOpened(): void {
    this.open++;
  }

  connectionClosed(): void {
    this.open--;
  }

  streamOpened(): void {
    this.streams++;
  }

  streamClosed(): void {
    this.streams--;
  }

  /** A request was answered with `status`; `inferMs` is its time when it was an inference request. */
  answered(status: string, error: boolean, inferMs?: number): void {
    this.requests++;
    this.rate.add(1);
    if (error) this.errors++;
    this.byStatus.set(status, (this.byStatus.get(status) ?? 0) + 1);
    if (inferMs === undefined) return;
    this.inferRequests++;
    this.latency.record(inferMs);
    for (const listener of this.latencyListeners) listener(inferMs);
  }

  /** Each inference request's latency as it is answered (the metrics' histogram). */
  onInferLatency(listener: (ms: number) => void): void {
    this.latencyListeners.push(listener);
  }

  snapshot(): ProtocolTrafficSnapshot {
    return {
      protocol: this.protocol,
      requests: this.requests,
      requestsPerSecond: this.rate.ratePerSecond(),
      inferRequests: this.inferRequests,
      byStatus: Object.fromEntries(this.byStatus),
      errors: this.errors,
      inferLatencyMs: this.latency.window(),
      openConnections: this.protocol === 'grpc' ? null : this.open,
      openStreams: this.streams,
    };
  }
}
