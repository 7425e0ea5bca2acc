import { afterEach } from 'vitest';
import { Engine, type ModelServingConfigInput } from '../../src-main/engine/index.js';
import { mulberry32 } from '../../src-main/util/prng.js';

const engines: Engine[] = [];

/** Engines started through here are stopped after each test, whatever happened. */
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.stop(1000)));
});

export async function startModel(bytes: Uint8Array, config: ModelServingConfigInput = {}, name = 'm') {
  const engine = new Engine();
  engines.push(engine);
  const model = await engine.loadModel({ name, source: bytes, config });
  return { engine, model };
}

export function randomRows(rows: number, width: number, seed: number): Float32Array {
  const random = mulberry32(seed);
  return Float32Array.from({ length: rows * width }, () => random() * 4 - 2);
}

/** Resolve once `predicate` holds, checking on every event-loop turn; fail after `timeoutMs`. */
export async function until(predicate: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Settle every promise and sort outcomes by error class name ('ok' for success). */
export async function outcomes(promises: Promise<unknown>[]): Promise<Record<string, number>> {
  const settled = await Promise.allSettled(promises);
  const counts: Record<string, number> = {};
  for (const s of settled) {
    const key = s.status === 'fulfilled' ? 'ok' : (s.reason as Error).constructor.name;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}
