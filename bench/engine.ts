/**
 * npm run bench:engine [-- --quick]
 *
 * Throughput of the engine against two references on the same model files, in one run:
 *   raw     onnxruntime in the same number of worker threads on prebuilt full batches (the ceiling);
 *   piscina a Piscina pool of the same size, one ORT session per thread, one run per request
 *           (what a user would write instead);
 *   engine  Switchboard under 256 concurrent requesters of one row each.
 * The machine is shared and noisy, so the three run in alternation for several rounds and
 * each keeps its best round: every contender gets the same chances. Percentiles and loop
 * delay come from the engine's best round. The last line printed is the JSON result.
 */
import { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { Engine } from '../src-main/engine/index.js';
import { LoopDelayMonitor } from '../src-main/engine/stats/loop-delay.js';
import { buildMlp } from '../src-main/models/mlp.js';
import { closedLoop, log, quick, round, tempModelDir } from './lib.js';

const WORKERS = 2;
const CONCURRENCY = 256;
const MAX_BATCH = 128;
const durationMs = quick ? 1500 : 5000;
const rounds = quick ? 2 : 3;

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

const output: Record<string, Record<string, number>> = {};
const models = tempModelDir();
try {
  for (const c of cases) {
    const path = models.write(`${c.key}.onnx`, buildMlp({ layers: c.layers, seed: 7 }));
    const rowElements = c.layers[0]!;
    log(`[${c.key}] MLP ${c.layers.join('-')}, ${WORKERS} workers, ${durationMs} ms per run`);
    let raw = 0;
    let piscina: Awaited<ReturnType<typeof runPiscina>> | undefined;
    let engine: Awaited<ReturnType<typeof runEngine>> | undefined;
    for (let round = 1; round <= rounds; round++) {
      const r = await runRaw(path, rowElements);
      log(`[${c.key}] round ${round} raw ORT, batch ${MAX_BATCH}: ${Math.round(r)} rows/s`);
      raw = Math.max(raw, r);
      const p = await runPiscina(path, rowElements);
      log(`[${c.key}] round ${round} piscina, one run per request: ${Math.round(p.rowsPerSecond)} rows/s`);
      if (!piscina || p.rowsPerSecond > piscina.rowsPerSecond) piscina = p;
      const e = await runEngine(path, rowElements);
      log(
        `[${c.key}] round ${round} engine: ${Math.round(e.rowsPerSecond)} rows/s, mean batch ${e.meanBatchRows.toFixed(1)} rows, ` +
          `p50 ${e.p50Ms} ms, p99 ${e.p99Ms} ms, loop delay p99 ${e.loopDelayP99Ms.toFixed(2)} ms, failed ${e.failed}`,
      );
      if (!engine || e.rowsPerSecond > engine.rowsPerSecond) engine = e;
    }
    if (!piscina || !engine) throw new Error('no rounds ran');
    output[c.key] = {
      engine_rows_s: Math.round(engine.rowsPerSecond),
      piscina_rows_s: Math.round(piscina.rowsPerSecond),
      raw_rows_s: Math.round(raw),
      ratio_vs_piscina: round(engine.rowsPerSecond / piscina.rowsPerSecond),
      ratio_vs_raw: round(engine.rowsPerSecond / raw),
      p50_ms: round(engine.p50Ms),
      p99_ms: round(engine.p99Ms),
      loop_delay_p99_ms: round(engine.loopDelayP99Ms),
    };
  }
} finally {
  models.cleanup();
}
console.log(JSON.stringify(output));
