/**
 * npm run bench:host-share [-- --quick]
 *
 * What the engine's gap to raw onnxruntime is made of. The engine's thread that calls `infer`
 * (the requesters and the engine's host side: validation, batching, answering) needs CPU of
 * its own, and on a machine with as many cores as inference workers that CPU comes out of
 * the workers. This benchmark separates that cost from the engine's code. In each round:
 *   raw          raw ORT on full batches (as in bench:engine: the ceiling);
 *   engine       the engine under 256 one-row requesters; it records how much of a core its
 *                calling thread used, and its mean batch;
 *   raw_loaded   raw ORT on batches of the engine's mean size while this thread (the one that
 *                hosts the engine in its slices) does nothing but compute for the same share
 *                of a core, in short bursts.
 * If `raw_loaded` comes close to `engine`, the engine adds little beyond the CPU its calling
 * thread needs and the batch size 256 callers allow; the gap is then the machine's core count.
 * Linux only (a thread's CPU time is read from /proc). The last line printed is the JSON result.
 */
import { CONCURRENCY, MAX_BATCH, ROUNDS, SLICE_MS, forEachModel, startEngine, startRaw, type EngineRun } from './contenders.js';
import { log, measureRound, median, occupyThread, round, type Contender } from './lib.js';

const WORKERS = 2;

interface Round {
  raw: number;
  engine: number;
  hostCores: number;
  meanBatchRows: number;
  rawLoaded: number;
  loadCores: number;
}

function hostCoresOf(run: EngineRun): number {
  if (run.hostCores === null) throw new Error('this platform does not report a thread CPU time (Linux only)');
  return run.hostCores;
}

/**
 * `raw` (started on the engine's batch size) measured while this thread, the one that hosts
 * the engine in the engine's slices, computes for `load()` of a core: the share the engine's
 * calling thread took in its latest measurement.
 */
/** The most of a core the loaded reference's thread computes for: a whole core cannot be imitated in bursts. */
const LOAD_CAP_CORES = 0.95;

function loadedRaw(raw: Contender<number>, load: () => number): Contender<{ rowsPerSecond: number; loadCores: number }> {
  return {
    async measure(durationMs) {
      const occupier = occupyThread(Math.min(load(), LOAD_CAP_CORES));
      const rowsPerSecond = await raw.measure(durationMs);
      return { rowsPerSecond, loadCores: occupier.stop() };
    },
    close: () => raw.close(),
  };
}

const output = await forEachModel(WORKERS, `${ROUNDS} rounds of ${SLICE_MS} ms per contender`, async (key, setup) => {
  const engine = await startEngine(setup, CONCURRENCY, MAX_BATCH);
  // A first slice learns the engine's batch size and host share for the loaded reference.
  let latest = await engine.measure(SLICE_MS);
  const batchRows = Math.max(1, Math.round(latest.meanBatchRows));
  const raw = await startRaw(setup, MAX_BATCH);
  const loaded = loadedRaw(await startRaw(setup, batchRows), () => hostCoresOf(latest));
  const tracked: Contender<EngineRun> = {
    measure: async (ms) => (latest = await engine.measure(ms)),
    close: () => engine.close(),
  };
  const runs: Round[] = [];
  try {
    for (let r = 1; r <= ROUNDS; r++) {
      const [rawRate, e, l] = await measureRound([raw, tracked, loaded], SLICE_MS, r);
      const run = {
        raw: rawRate,
        engine: e.rowsPerSecond,
        hostCores: hostCoresOf(e),
        meanBatchRows: e.meanBatchRows,
        rawLoaded: l.rowsPerSecond,
        loadCores: l.loadCores,
      };
      log(
        `[${key}] round ${r}: raw (batch ${MAX_BATCH}) ${Math.round(rawRate)} rows/s; engine ${Math.round(run.engine)} rows/s ` +
          `(${(run.engine / rawRate).toFixed(3)} of raw), calling thread ${run.hostCores.toFixed(3)} core, mean batch ` +
          `${run.meanBatchRows.toFixed(1)}; raw on batches of ${batchRows} beside a thread computing ` +
          `${run.loadCores.toFixed(3)} core: ${Math.round(run.rawLoaded)} rows/s (${(run.rawLoaded / rawRate).toFixed(3)} of raw)`,
      );
      runs.push(run);
    }
  } finally {
    await Promise.all([raw.close(), tracked.close(), loaded.close()]);
  }
  const of = (pick: (run: Round) => number) => median(runs.map(pick));
  return {
    // What the references were: raw on full batches, and the loaded one on the engine's batch size beside a capped load.
    raw_batch_rows: MAX_BATCH,
    raw_loaded_batch_rows: batchRows,
    raw_loaded_load_cap_cores: LOAD_CAP_CORES,
    raw_rows_s: Math.round(of((r) => r.raw)),
    engine_rows_s: Math.round(of((r) => r.engine)),
    raw_loaded_rows_s: Math.round(of((r) => r.rawLoaded)),
    engine_ratio_vs_raw: round(of((r) => r.engine / r.raw)),
    raw_loaded_ratio_vs_raw: round(of((r) => r.rawLoaded / r.raw)),
    engine_ratio_vs_raw_loaded: round(of((r) => r.engine / r.rawLoaded)),
    host_cores: round(of((r) => r.hostCores)),
    load_cores: round(of((r) => r.loadCores)),
    mean_batch_rows: round(
      of((r) => r.meanBatchRows),
      1,
    ),
  };
});
console.log(JSON.stringify(output));
