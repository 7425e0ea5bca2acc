import { describe, expect, it } from 'vitest';
import { measureRound, threadCpuMs, type Contender } from '../../bench/lib.js';
import { processCpuMs } from '../../src-main/util/cpu-share.js';

describe('benchmark helpers', () => {
  it('a round measures every contender once, reversing the order every other round, and returns results in the order given', async () => {
    const calls: string[] = [];
    const contender = <T>(name: string, result: T): Contender<T> => ({
      measure: (ms) => {
        calls.push(`${name}:${ms}`);
        return Promise.resolve(result);
      },
      close: () => Promise.resolve(),
    });
    const contenders = [contender('raw', 1), contender('piscina', { rows: 2 }), contender('engine', 'three')] as const;

    const first = await measureRound(contenders, 250, 1);
    const second = await measureRound(contenders, 250, 2);

    expect(calls).toEqual(['raw:250', 'piscina:250', 'engine:250', 'engine:250', 'piscina:250', 'raw:250']);
    expect(first).toEqual([1, { rows: 2 }, 'three']);
    expect(second).toEqual(first);
  });

  it.runIf(process.platform === 'linux')('the thread CPU clock advances while this thread computes (Linux only: it reads /proc)', () => {
    const start = threadCpuMs()!;
    expect(start).toBeLessThanOrEqual(processCpuMs()); // one thread's CPU time is part of the process's, in the same unit
    // Compute until the clock moves 50 ms (5 ticks); a clock read from the wrong fields would
    // not move, and the wall-time bound turns that into a failure rather than a hang.
    const wallLimit = performance.now() + 20_000;
    let now = start;
    while (now - start < 50 && performance.now() < wallLimit) now = threadCpuMs()!;
    expect(now - start).toBeGreaterThanOrEqual(50);
  });
});
