/**
 * npm run bench:engine [-- --quick] [--workers N]
 *
 * Throughput of the engine against two references on the same model files, in one run:
 *   raw     onnxruntime in the same number of worker threads on prebuilt full batches (the ceiling);
 *   piscina a Piscina pool of the same size, one ORT session per thread, one run per request
 *           (what a user would write instead);
 *   engine  Switchboard under 256 concurrent requesters of one row each.
 * The machine is shared and noisy, so the three run back to back in each of several rounds,
 * and each round gives its own ratios: neighbours in time share the machine's load. A ratio
 * reported is the median of the rounds' ratios; rows/s, latencies and loop delay are the
 * medians of the rounds' figures (so a ratio need not equal the quotient of two medians).
 * The last line printed is the JSON result.
 */
import { parseArgs } from 'node:util';
import { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { Engine } from '../src-main/engine/index.js';
import { LoopDelayMonitor } from '../src-main/engine/stats/loop-delay.js';
import { buildMlp } from '../src-main/models/mlp.js';
import { closedLoop, log, median, quick, round, tempModelDir } from './lib.js';

// `--workers N` runs every contender with N threads. The default, 2, is the reference setup;
// with 1 on a 2-core machine the thread that answers requests has a core of its own.
const WORKERS = workerCount();
const CONCURRENCY = 256;
const MAX_BATCH = 128;
const durationMs = quick ? 1500 : 5000;
const rounds = quick ? 3 : 5;

interface ModelCase {
  key: 'small' | 'large';
  layers: number[];
}

const cases: ModelCase[] = [
  { key: 'small', layers: [64, 256, 256, 8] },
  { key: 'large', layers: [512, 1024, 1024, 16] },
];

async function runRaw(modelPath: string, rowElements: number): Promise<number> {
  const workers = Array.from(
    { length: WORKERS },
    () =>
      new Worker(new URL('./workers/raw-ort.mjs', import.meta.url), {
        workerData: { modelPath, inputName: 'obs', rowElements, batch: MAX_BATCH, durationMs, intraOpThreads: 1 },
      }),
  );
  const next = (w: Worker) =>
    new Promise<{ rows: number; elapsedMs: number }>((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
  await Promise.all(workers.map(next));
  const results = workers.map(next);
  for (const w of workers) w.postMessage('go');
  const done = await Promise.all(results);
  await Promise.all(workers.map((w) => w.terminate()));
  return done.reduce((sum, r) => sum + (r.rows * 1000) / r.elapsedMs, 0);
}

async function runPiscina(modelPath: string, rowElements: number) {
  const pool = new Piscina({
    filename: new URL('./workers/piscina-ort.mjs', import.meta.url).href,
    minThreads: WORKERS,
    maxThreads: WORKERS,
    workerData: { modelPath, intraOpThreads: 1 },
  });
  const data = new Float32Array(rowElements).fill(0.25);
  const task = { inputName: 'obs', data, dims: [1, rowElements] };
  await closedLoop(CONCURRENCY, 300, 1, () => pool.run(task)); // warm-up: sessions created
  const result = await closedLoop(CONCURRENCY, durationMs, 1, () => pool.run(task));
  await pool.destroy();
  return result;
}

async function runEngine(modelPath: string, rowElements: number) {
  const engine = new Engine();
  const model = await engine.loadModel({
    name: 'bench',
    source: modelPath,
    config: { workers: { count: WORKERS, intraOpThreads: 1 }, batching: { maxBatchSize: MAX_BATCH }, queue: { capacity: 4096 } },
  });
  const inputs = { obs: { data: new Float32Array(rowElements).fill(0.25), dims: [1, rowElements] } };
  await closedLoop(CONCURRENCY, 300, 1, () => model.infer(inputs)); // warm-up
  const loop = new LoopDelayMonitor(3_600_000, 5);
  const result = await closedLoop(CONCURRENCY, durationMs, 1, () => model.infer(inputs));
  const loopDelay = loop.summary();
  loop.close();
  const snapshot = engine.snapshot();
  await engine.stop();
  return { ...result, loopDelayP99Ms: loopDelay.p99Ms, meanBatchRows: snapshot.models[0]!.meanBatchRows };
}

function workerCount(): number {
  const { values } = parseArgs({ options: { quick: { type: 'boolean' }, workers: { type: 'string', default: '2' } } });
  const count = Number(values.workers);
  if (!Number.isInteger(count) || count < 1 || count > 64)
    throw new RangeError(`--workers must be an integer 1..64, got ${values.workers}`);
  return count;
}

const output: Record<string, Record<string, number>> = {};
const models = tempModelDir();
try {
  for (const c of cases) {
    const path = models.write(`${c.key}.onnx`, buildMlp({ layers: c.layers, seed: 7 }));
    const rowElements = c.layers[0]!;
    log(`[${c.key}] MLP ${c.layers.join('-')}, ${WORKERS} workers, ${durationMs} ms per run`);
    const runs: { raw: number; piscina: number; engine: Awaited<ReturnType<typeof runEngine>> }[] = [];
    for (let round = 1; round <= rounds; round++) {
      const raw = await runRaw(path, rowElements);
      const piscina = (await runPiscina(path, rowElements)).rowsPerSecond;
      const engine = await runEngine(path, rowElements);
      log(
        `[${c.key}] round ${round}: raw ORT (batch ${MAX_BATCH}) ${Math.round(raw)} rows/s, piscina ${Math.round(piscina)} rows/s, ` +
          `engine ${Math.round(engine.rowsPerSecond)} rows/s (mean batch ${engine.meanBatchRows.toFixed(1)} rows, p50 ${engine.p50Ms} ms, ` +
          `p99 ${engine.p99Ms} ms, loop delay p99 ${engine.loopDelayP99Ms.toFixed(2)} ms, failed ${engine.failed}); ` +
          `this round: ${(engine.rowsPerSecond / raw).toFixed(3)} of raw, ${(engine.rowsPerSecond / piscina).toFixed(1)}x piscina`,
      );
      runs.push({ raw, piscina, engine });
    }
    const of = (pick: (run: (typeof runs)[number]) => number) => median(runs.map(pick));
    output[c.key] = {
      engine_rows_s: Math.round(of((r) => r.engine.rowsPerSecond)),
      piscina_rows_s: Math.round(of((r) => r.piscina)),
      raw_rows_s: Math.round(of((r) => r.raw)),
      ratio_vs_piscina: round(of((r) => r.engine.rowsPerSecond / r.piscina)),
      ratio_vs_raw: round(of((r) => r.engine.rowsPerSecond / r.raw)),
      p50_ms: round(of((r) => r.engine.p50Ms)),
      p99_ms: round(of((r) => r.engine.p99Ms)),
      loop_delay_p99_ms: round(of((r) => r.engine.loopDelayP99Ms)),
    };
  }
} finally {
  models.cleanup();
}
console.log(JSON.stringify(output));
