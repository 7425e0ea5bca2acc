/**
 * Shared pieces of the benchmarks: argument parsing, model files in a temp folder,
 * a closed-loop load generator and latency summaries. Benchmarks print progress as
 * they go and finish with one JSON line, the result.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildHistogram } from '../src-main/engine/stats/histogram.js';

export const quick = process.argv.includes('--quick');

export function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

export function tempModelDir(): { dir: string; write(name: string, bytes: Uint8Array): string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-bench-'));
  return {
    dir,
    write(name, bytes) {
      const path = join(dir, name);
      writeFileSync(path, bytes);
      return path;
    },
    cleanup() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface ClosedLoopResult {
  requests: number;
  rows: number;
  elapsedMs: number;
  rowsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  failed: number;
}

/**
 * `concurrency` requesters, each sending its next request as soon as the last one is
 * answered, for `durationMs`. Latency is measured by the caller's clock.
 */
export async function closedLoop(
  concurrency: number,
  durationMs: number,
  rowsPerRequest: number,
  send: () => Promise<unknown>,
): Promise<ClosedLoopResult> {
  // The engine's WebAssembly histograms record in ~33 ns against ~245 ns: the load generator
  // shares the engine's thread, and its own bookkeeping should cost the measured system little.
  const latency = buildHistogram({ significantDigits: 3 });
  let requests = 0;
  let failed = 0;
  const started = performance.now();
  const end = started + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        try {
          await send();
          requests++;
          latency.recordValue(Math.max(1, Math.round((performance.now() - t0) * 1000)));
        } catch (error) {
          failed++;
          if (failed === 1) log(`request failed: ${(error as Error).message}`);
        }
      }
    }),
  );
  const elapsedMs = performance.now() - started;
  const p50Ms = latency.getValueAtPercentile(50) / 1000;
  const p99Ms = latency.getValueAtPercentile(99) / 1000;
  latency.destroy();
  return {
    requests,
    rows: requests * rowsPerRequest,
    elapsedMs,
    rowsPerSecond: (requests * rowsPerRequest * 1000) / elapsedMs,
    p50Ms,
    p99Ms,
    failed,
  };
}

/** The item whose key is the median (the upper middle for an even count). */
export function medianBy<T>(items: readonly T[], key: (item: T) => number): T {
  if (items.length === 0) throw new RangeError('median of no values');
  const sorted = [...items].sort((a, b) => key(a) - key(b));
  return sorted[Math.floor(sorted.length / 2)]!;
}

export function median(values: readonly number[]): number {
  return medianBy(values, (v) => v);
}

export function round(value: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
