/**
 * The contenders of the engine benchmarks, each started once on one model file and then
 * measured for as many short slices as the benchmark wants, so that slices of different
 * contenders can alternate: on a shared machine, neighbours in time share its load.
 *   raw     onnxruntime in worker threads on prebuilt batches (the ceiling);
 *   piscina a Piscina pool, one ORT session per thread, one run per request;
 *   engine  Switchboard under closed-loop one-row requesters.
 * Shared by `bench/engine.ts` (the comparison) and `bench/host-share.ts` (what the gap to raw is made of);
 * `measureRound` (in lib.ts) alternates them.
 */
import { Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { Engine } from '../src-main/engine/index.js';
import { buildMlp } from '../src-main/models/mlp.js';
import { LoopDelayMonitor } from '../src-main/engine/stats/loop-delay.js';
import { closedLoop, log, quick, tempModelDir, threadCpuMs, type ClosedLoopResult, type Contender } from './lib.js';

/** The setup: 256 concurrent one-row requesters, batches of up to 128 rows. */
export const CONCURRENCY = 256;
export const MAX_BATCH = 128;

/** Each contender's slice, and the rounds of slices, of both engine benchmarks. */
export const SLICE_MS = quick ? 1000 : 2000;
export const ROUNDS = quick ? 5 : 11;

/** Both models have one float32 input `obs` of [batch, layers[0]]. */
const MODEL_CASES: readonly { key: 'small' | 'large'; layers: readonly number[] }[] = [
  { key: 'small', layers: [64, 256, 256, 8] },
  { key: 'large', layers: [512, 1024, 1024, 16] },
];

export interface RunSetup {
  modelPath: string;
  /** Elements of one input row. */
  rowElements: number;
  workers: number;
}

/**
 * Writes each model of MODEL_CASES to a temporary folder and runs `measure` on it; returns
 * each model's figures under its key. The folder is removed whatever happens.
 */
export async function forEachModel(
  workers: number,
  plan: string,
  measure: (key: string, setup: RunSetup) => Promise<Record<string, number>>,
): Promise<Record<string, Record<string, number>>> {
  const output: Record<string, Record<string, number>> = {};
  const models = tempModelDir();
  try {
    for (const c of MODEL_CASES) {
      const modelPath = models.write(`${c.key}.onnx`, buildMlp({ layers: c.layers, seed: 7 }));
      log(`[${c.key}] MLP ${c.layers.join('-')}, ${workers} workers, ${plan}`);
      output[c.key] = await measure(c.key, { modelPath, rowElements: c.layers[0]!, workers });
    }
  } finally {
    models.cleanup();
  }
  return output;
}

/** Raw ORT in `workers` threads, each running `batch`-row batches back to back; measures rows/s. */
export async function startRaw(setup: RunSetup, batch: number): Promise<Contender<number>> {
  const { modelPath, rowElements } = setup;
  const workers = Array.from(
    { length: setup.workers },
    () =>
      new Worker(new URL('./workers/raw-ort.mjs', import.meta.url), {
        workerData: { modelPath, inputName: 'obs', rowElements, batch, intraOpThreads: 1 },
      }),
  );
  // The next message of a worker, or its error; neither listener outlives the wait, so that
  // measuring many times adds none.
  const next = <T>(w: Worker) =>
    new Promise<T>((resolve, reject) => {
      const onMessage = (message: T) => {
        w.off('error', onError);
        resolve(message);
      };
      const onError = (error: Error) => {
        w.off('message', onMessage);
        reject(error);
      };
      w.once('message', onMessage);
      w.once('error', onError);
    });
  await Promise.all(workers.map(next)); // sessions created and warm
  return {
    async measure(durationMs) {
      const results = workers.map(next<{ rows: number; elapsedMs: number }>);
      for (const w of workers) w.postMessage({ durationMs });
      const done = await Promise.all(results);
      return done.reduce((sum, r) => sum + (r.rows * 1000) / r.elapsedMs, 0);
    },
    async close() {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}

export async function startPiscina(setup: RunSetup, concurrency: number): Promise<Contender<ClosedLoopResult>> {
  const pool = new Piscina({
    filename: new URL('./workers/piscina-ort.mjs', import.meta.url).href,
    minThreads: setup.workers,
    maxThreads: setup.workers,
    workerData: { modelPath: setup.modelPath, intraOpThreads: 1 },
  });
  const data = new Float32Array(setup.rowElements).fill(0.25);
  const task = { inputName: 'obs', data, dims: [1, setup.rowElements] };
  await closedLoop(concurrency, 300, 1, () => pool.run(task)); // warm-up: sessions created
  return {
    measure: (durationMs) => closedLoop(concurrency, durationMs, 1, () => pool.run(task)),
    close: () => pool.destroy(),
  };
}

export interface EngineRun extends ClosedLoopResult {
  loopDelayP99Ms: number;
  /** Mean rows per batch over this measurement. */
  meanBatchRows: number;
  /**
   * CPU the calling thread (requesters and the engine's host side) used, in cores, over the
   * measurement; null where the platform does not report a thread's CPU time.
   */
  hostCores: number | null;
}

export async function startEngine(
  setup: RunSetup,
  concurrency: number,
  maxBatchSize: number,
  rowsPerRequest = 1,
): Promise<Contender<EngineRun>> {
  const engine = new Engine();
  const model = await engine.loadModel({
    name: 'bench',
    source: setup.modelPath,
    config: {
      workers: { count: setup.workers, intraOpThreads: 1 },
      batching: { maxBatchSize },
      queue: { capacity: 4096 },
    },
  });
  const inputs = {
    obs: { data: new Float32Array(rowsPerRequest * setup.rowElements).fill(0.25), dims: [rowsPerRequest, setup.rowElements] },
  };
  const batchCounts = () => {
    const workers = engine.snapshot().workers;
    return { rows: workers.reduce((n, w) => n + w.rows, 0), batches: workers.reduce((n, w) => n + w.batches, 0) };
  };
  await closedLoop(concurrency, 300, rowsPerRequest, () => model.infer(inputs)); // warm-up
  return {
    async measure(durationMs) {
      const loop = new LoopDelayMonitor(3_600_000, 5);
      const countsBefore = batchCounts();
      const cpuBefore = threadCpuMs();
      const result = await closedLoop(concurrency, durationMs, rowsPerRequest, () => model.infer(inputs));
      const cpuAfter = threadCpuMs();
      const countsAfter = batchCounts();
      const loopDelay = loop.summary();
      loop.close();
      return {
        ...result,
        loopDelayP99Ms: loopDelay.p99Ms,
        meanBatchRows: (countsAfter.rows - countsBefore.rows) / Math.max(1, countsAfter.batches - countsBefore.batches),
        hostCores: cpuBefore === null || cpuAfter === null ? null : (cpuAfter - cpuBefore) / result.elapsedMs,
      };
    },
    close: () => engine.stop(),
  };
}
