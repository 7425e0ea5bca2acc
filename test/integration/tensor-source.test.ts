/**
 * Inputs given as a TensorSource and outputs given a sink, against a real engine: a
 * source is copied once, straight into the batch's arena slot (a SharedArrayBuffer) for a
 * batched model, or into the array a run by transfer takes; a sink is handed the request's
 * rows as a view, and the result keeps none. This is what lets shared-memory tensors move
 * with one copy each way (src-main/inference/shm/shm-tensors.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, InvalidInputError, TensorSource, type TensorData } from '../../src-main/engine/index.js';
import { SMALL_LAYERS, smallMlp } from '../fixtures/models.js';

const [FEATURES, , OUTPUTS] = SMALL_LAYERS as [number, number, number];

/** A source over `values` that records where each copy went. */
class RecordingSource extends TensorSource {
  readonly dtype = 'float32' as const;
  readonly targets: TensorData[] = [];

  constructor(private readonly values: Float32Array) {
    super();
  }

  get length(): number {
    return this.values.length;
  }

  copyTo(target: TensorData): void {
    this.targets.push(target);
    (target as Float32Array).set(this.values);
  }
}

function rows(n: number, seed: number): Float32Array {
  return Float32Array.from({ length: n * FEATURES }, (_, i) => Math.sin(seed + i));
}

let engine: Engine;

beforeAll(async () => {
  engine = new Engine();
  await engine.loadModel({ name: 'batched', source: smallMlp(), config: { workers: { count: 1 } } });
  await engine.loadModel({ name: 'unbatched', source: smallMlp(), config: { workers: { count: 1 }, batching: { mode: 'none' } } });
}, 60_000);

afterAll(() => engine.stop());

describe.each(['batched', 'unbatched'] as const)('a %s model', (model) => {
  it('copies a source once, into the arena or the run’s own array, and answers as with an array', async () => {
    const values = rows(3, 1);
    const expected = await engine.infer(model, { obs: { data: values, dims: [3, FEATURES] } });
    const source = new RecordingSource(values);
    const result = await engine.infer(model, { obs: { data: source, dims: [3, FEATURES] } });
    expect(result.outputs.logits!.data).toEqual(expected.outputs.logits!.data);
    expect(source.targets).toHaveLength(1);
    const intoArena = source.targets[0]!.buffer instanceof SharedArrayBuffer;
    expect(intoArena).toBe(model === 'batched'); // the unbatched model runs by transfer: one request, one array
  });

  it('hands a sink the request’s rows as a view, and keeps none in the result', async () => {
    const values = rows(2, 2);
    const expected = await engine.infer(model, { obs: { data: values, dims: [2, FEATURES] } });
    const seen: { values: number[]; shared: boolean }[] = [];
    const result = await engine.infer(
      model,
      { obs: { data: values, dims: [2, FEATURES] } },
      {
        outputSinks: {
          logits: (view) => seen.push({ values: Array.from(view as Float32Array), shared: view.buffer instanceof SharedArrayBuffer }),
        },
      },
    );
    expect(seen).toHaveLength(1);
    expect(seen[0]!.values).toEqual(Array.from(expected.outputs.logits!.data as Float32Array));
    expect(result.outputs.logits!.dims).toEqual([2, OUTPUTS]);
    expect(result.outputs.logits!.data).toHaveLength(0);
  });
});

it('reads a source before accepting the request when the finite check is on, and refuses what it finds', async () => {
  const good = new RecordingSource(rows(1, 3));
  await engine.infer('batched', { obs: { data: good, dims: [1, FEATURES] } }, { checkFinite: true });
  expect(good.targets).toHaveLength(1);
  expect(good.targets[0]!.buffer instanceof SharedArrayBuffer).toBe(false); // an array of its own, checked, then into the arena
  const bad = rows(1, 4);
  bad[5] = Number.NaN;
  await expect(
    engine.infer('batched', { obs: { data: new RecordingSource(bad), dims: [1, FEATURES] } }, { checkFinite: true }),
  ).rejects.toThrow('contains NaN or Infinity');
});

it('refuses a source of the wrong dtype or length, and sinks that are not functions, before anything is queued', async () => {
  const wrongType = new (class extends RecordingSource {
    override readonly dtype = 'float64' as never;
  })(rows(1, 5));
  await expect(engine.infer('batched', { obs: { data: wrongType, dims: [1, FEATURES] } })).rejects.toBeInstanceOf(InvalidInputError);
  const short = new RecordingSource(rows(1, 6));
  await expect(engine.infer('batched', { obs: { data: short, dims: [2, FEATURES] } })).rejects.toThrow(/need 32 elements, data has 16/);
  expect(wrongType.targets.length + short.targets.length).toBe(0);
  await expect(
    engine.infer('batched', { obs: { data: rows(1, 7), dims: [1, FEATURES] } }, { outputSinks: { logits: 'no' as never } }),
  ).rejects.toThrow('outputSinks must map output names to functions');
  await expect(
    engine.infer('batched', { obs: { data: rows(1, 8), dims: [1, FEATURES] } }, { outputSinks: { nope: () => undefined } }),
  ).rejects.toThrow('outputSinks names an output the model does not have');
});
