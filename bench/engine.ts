/**
 * npm run bench:engine [-- --quick] [--workers N]
 *
 * Throughput of the engine against two references on the same model files, in one run:
 *   raw     onnxruntime in the same number of worker threads on prebuilt full batches (the ceiling);
 *   piscina a Piscina pool of the same size, one ORT session per thread, one run per request
 *           (what a user would write instead);
 *   engine  Switchboard under 256 concurrent requesters of one row each.
 * The machine is shared and noisy, so each contender is started once and then measured in short
 * slices, the three back to back in each of several rounds (see `measureRound`), and each round
 * gives its own ratios: neighbours in time share the machine's load. A ratio
 * reported is the median of the rounds' ratios; rows/s, latencies and loop delay are the
 * medians of the rounds' figures (so a ratio need not equal the quotient of two medians).
 * The last line printed is the JSON result.
 */
import { parseArgs } from 'node:util';
import {
  CONCURRENCY,
  MAX_BATCH,
  ROUNDS,
  SLICE_MS,
  forEachModel,
  startEngine,
  startPiscina,
  startRaw,
  type EngineRun,
} from './contenders.js';
import { log, measureRound, median, round } from './lib.js';

// `--workers N` runs every contender with N threads. The default, 2, is the reference setup;
// with 1 on a 2-core machine the thread that answers requests has a core of its own.
const WORKERS = workerCount();

function workerCount(): number {
  const { values } = parseArgs({ options: { quick: { type: 'boolean' }, workers: { type: 'string', default: '2' } } });
  const count = Number(values.workers);
  if (!Number.isInteger(count) || count < 1 || count > 64)
    throw new RangeError(`--workers must be an integer 1..64, got ${values.workers}`);
  return count;
}

const output = await forEachModel(WORKERS, `${ROUNDS} rounds of ${SLICE_MS} ms per contender`, async (key, setup) => {
  const raw = await startRaw(setup, MAX_BATCH);
  const piscina = await startPiscina(setup, CONCURRENCY);
  const engine = await startEngine(setup, CONCURRENCY, MAX_BATCH);
  const runs: { raw: number; piscina: number; engine: EngineRun }[] = [];
  try {
    for (let r = 1; r <= ROUNDS; r++) {
      const [rawRate, piscinaRun, e] = await measureRound([raw, piscina, engine], SLICE_MS, r);
      const done = { raw: rawRate, piscina: piscinaRun.rowsPerSecond, engine: e };
      log(
        `[${key}] round ${r}: raw ORT (batch ${MAX_BATCH}) ${Math.round(done.raw)} rows/s, piscina ${Math.round(done.piscina)} rows/s, ` +
          `engine ${Math.round(e.rowsPerSecond)} rows/s (mean batch ${e.meanBatchRows.toFixed(1)} rows, p50 ${e.p50Ms} ms, ` +
          `p99 ${e.p99Ms} ms, loop delay p99 ${e.loopDelayP99Ms.toFixed(2)} ms, ` +
          `calling thread ${e.hostCores?.toFixed(2) ?? 'n/a'} core, failed ${e.failed}); ` +
          `this round: ${(e.rowsPerSecond / done.raw).toFixed(3)} of raw, ${(e.rowsPerSecond / done.piscina).toFixed(1)}x piscina`,
      );
      runs.push(done);
    }
  } finally {
    await Promise.all([raw.close(), piscina.close(), engine.close()]);
  }
  const of = (pick: (run: (typeof runs)[number]) => number) => median(runs.map(pick));
  return {
    engine_rows_s: Math.round(of((r) => r.engine.rowsPerSecond)),
    piscina_rows_s: Math.round(of((r) => r.piscina)),
    raw_rows_s: Math.round(of((r) => r.raw)),
    ratio_vs_piscina: round(of((r) => r.engine.rowsPerSecond / r.piscina)),
    ratio_vs_raw: round(of((r) => r.engine.rowsPerSecond / r.raw)),
    p50_ms: round(of((r) => r.engine.p50Ms)),
    p99_ms: round(of((r) => r.engine.p99Ms)),
    loop_delay_p99_ms: round(of((r) => r.engine.loopDelayP99Ms)),
  };
});
console.log(JSON.stringify(output));
