/**
 * npm run bench:byte-slots [-- --quick]
 *
 * What byte slots buy a model whose shapes vary (a symbolic sequence dim, served one request
 * per run): the same model served twice in one process, with `workers.variableSlotBytes` of
 * 1 MiB (tensors packed into shared memory) and of 0 (every tensor moved by transfer), under
 * the same closed loop of concurrent requesters, for a small request (4 KiB) and a large one
 * (256 KiB). The two are measured back to back in each round (see `measureRound`), and a
 * ratio is the median of the rounds' ratios. The last line printed is the JSON result.
 */
import { Engine, type ModelHandle } from '../src-main/engine/index.js';
import { OnnxGraphBuilder } from '../src-main/models/onnx-builder.js';
import { closedLoop, log, measureRound, median, quick, round, type ClosedLoopResult, type Contender } from './lib.js';

const SLICE_MS = quick ? 1000 : 2000;
const ROUNDS = quick ? 5 : 9;
const CONCURRENCY = 32;
const WIDTH = 64;
const SIZES = { small: 16, large: 1024 }; // sequence steps of WIDTH floats: 4 KiB and 256 KiB per request

// Identity is the cheapest run onnxruntime can do: what is measured is the engine moving the tensors.
const model = new OnnxGraphBuilder('sequence-identity')
  .input('x', 'float32', ['N', 'S', WIDTH])
  .output('y', 'float32', ['N', 'S', WIDTH])
  .node('Identity', ['x'], ['y'])
  .build();

function contender(handle: ModelHandle, steps: number): Contender<ClosedLoopResult> {
  const inputs = { x: { data: new Float32Array(steps * WIDTH).fill(0.5), dims: [1, steps, WIDTH] } };
  return {
    measure: (durationMs) => closedLoop(CONCURRENCY, durationMs, 1, () => handle.infer(inputs)),
    close: () => Promise.resolve(), // both models close with the engine
  };
}

const engine = new Engine();
const load = (name: string, variableSlotBytes: number) =>
  engine.loadModel({ name, source: model, config: { batching: { mode: 'none' }, workers: { count: 2, variableSlotBytes } } });
const [slots, transfer] = [await load('slots', 2 ** 20), await load('transfer', 0)];
const result: Record<string, unknown> = { workers: 2, concurrency: CONCURRENCY, rounds: ROUNDS, sliceMs: SLICE_MS };
try {
  for (const [size, steps] of Object.entries(SIZES)) {
    const pair = [contender(slots, steps), contender(transfer, steps)] as const;
    await measureRound(pair, 300, 1); // warm-up
    const rounds: { slots: ClosedLoopResult; transfer: ClosedLoopResult }[] = [];
    for (let r = 1; r <= ROUNDS; r++) {
      const [s, t] = await measureRound(pair, SLICE_MS, r);
      rounds.push({ slots: s, transfer: t });
      log(`${size} round ${r}: slots ${Math.round(s.rowsPerSecond)} req/s, transfer ${Math.round(t.rowsPerSecond)} req/s`);
    }
    const failed = rounds.reduce((n, r) => n + r.slots.failed + r.transfer.failed, 0);
    if (failed > 0) throw new Error(`${failed} requests failed`);
    result[size] = {
      requestBytes: steps * WIDTH * 4,
      slotsRequestsPerSecond: round(median(rounds.map((r) => r.slots.rowsPerSecond)), 0),
      transferRequestsPerSecond: round(median(rounds.map((r) => r.transfer.rowsPerSecond)), 0),
      throughputRatioSlotsToTransfer: round(median(rounds.map((r) => r.slots.rowsPerSecond / r.transfer.rowsPerSecond))),
      p99RatioSlotsToTransfer: round(median(rounds.map((r) => r.slots.p99Ms / r.transfer.p99Ms))),
    };
  }
  // Which way each model's tensors went, as the Shared memory page shows it.
  result.arenas = engine.snapshot().arenas.map((a) => ({ name: a.name, kind: a.kind, runs: a.acquired, transferRuns: a.transferRuns }));
} finally {
  await engine.stop(5000);
}
console.log(JSON.stringify(result));
