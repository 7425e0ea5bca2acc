/**
 * Event-loop delay of the thread hosting the engine (the Electron main thread in the
 * app). Node's monitorEventLoopDelay samples it natively; we reset it each window so
 * the figure reflects the last few seconds.
 */
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

export interface LoopDelaySummary {
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export class LoopDelayMonitor {
  private readonly histogram: IntervalHistogram;
  private last: LoopDelaySummary = { meanMs: 0, p50Ms: 0, p99Ms: 0, maxMs: 0 };
  private windowStart = performance.now();

  constructor(
    private readonly windowMs: number,
    private readonly resolutionMs = 10,
  ) {
    this.histogram = monitorEventLoopDelay({ resolution: resolutionMs });
    this.histogram.enable();
  }

  /** Delay over the current window, rolled over once `windowMs` has passed. */
  summary(): LoopDelaySummary {
    const h = this.histogram;
    const current =
      h.count === 0
        ? this.last
        : {
            meanMs: this.delayMs(h.mean),
            p50Ms: this.delayMs(h.percentile(50)),
            p99Ms: this.delayMs(h.percentile(99)),
            maxMs: this.delayMs(h.max),
          };
    if (performance.now() - this.windowStart >= this.windowMs && h.count > 0) {
      this.last = current;
      h.reset();
      this.windowStart = performance.now();
    }
    return current;
  }

  /** Node's samples are whole timer intervals (resolution + delay); report the delay alone. */
  private delayMs(ns: number): number {
    return Math.max(0, ns / 1e6 - this.resolutionMs);
  }

  close(): void {
    this.histogram.disable();
  }
}
