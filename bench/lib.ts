/**
 * Shared pieces of the benchmarks: argument parsing, model files in a temp folder,
 * a closed-loop load generator and latency summaries. Benchmarks print progress as
 * they go and finish with one JSON line, the result.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

/**
 * CPU time (user + system) of the calling thread in ms, or null where the platform does not
 * report it. Node 20 has no per-thread CPU clock (`process.cpuUsage` counts every thread,
 * workers included), so this reads Linux's /proc/thread-self/stat, in clock ticks of 10 ms
 * (USER_HZ is 100 on the kernels Node supports): measure over seconds, not milliseconds.
 */
export function threadCpuMs(): number | null {
  let stat: string;
  try {
    stat = readFileSync('/proc/thread-self/stat', 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null; // not Linux
    throw error;
  }
  // Fields after the parenthesised command name (which may itself hold spaces): utime is
  // field 14 and stime field 15 of the whole line, so indexes 11 and 12 of the rest.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/**
 * Keeps the calling thread busy for `cores` of a core until stopped: once a millisecond it
 * computes until it has taken that share of the time since it started, so the load comes in
 * short bursts between idle gaps, as a host's work does between batches. `stop()` returns
 * the share it actually took.
 */
export function occupyThread(cores: number): { stop(): number } {
  // At a whole core or more the burst would never catch up and never end.
  if (!(cores >= 0 && cores < 1)) throw new RangeError(`occupyThread takes 0 <= cores < 1, got ${cores}`);
  const started = performance.now();
  let busyMs = 0;
  let timer: NodeJS.Timeout | undefined;
  const tick = () => {
    const burstStart = performance.now();
    for (let now = burstStart; busyMs + (now - burstStart) < cores * (now - started); now = performance.now()) {
      // the load itself: a thread that computes
    }
    busyMs += performance.now() - burstStart;
    timer = setTimeout(tick, 1);
  };
  tick();
  return {
    stop() {
      clearTimeout(timer);
      return busyMs / (performance.now() - started);
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

/** A started contender: `measure` runs it for a while and reports; `close` frees its threads. */
export interface Contender<Result> {
  measure(durationMs: number): Promise<Result>;
  close(): Promise<void>;
}

type Results<T extends readonly Contender<unknown>[]> = { [K in keyof T]: T[K] extends Contender<infer R> ? R : never };

/**
 * One round: each contender measured for `sliceMs`, one after the other, in the order given in
 * odd rounds and reversed in even ones, so that no contender always follows the same one (and
 * the load it leaves behind). Results come back in the order given.
 */
export async function measureRound<const T extends readonly Contender<unknown>[]>(
  contenders: T,
  sliceMs: number,
  round: number,
): Promise<Results<T>> {
  const results: unknown[] = new Array(contenders.length);
  const order = contenders.map((_, i) => i);
  if (round % 2 === 0) order.reverse();
  for (const i of order) results[i] = await contenders[i]!.measure(sliceMs);
  return results as Results<T>; // each slot holds what its own contender's measure() returned
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
