import type { TensorValues } from '../../src-main/engine/dtypes.js';
import { describe, expect, it } from 'vitest';
import type { InferResult } from '../../src-main/engine/index.js';
import { fixedBatchMlp, mixedDtypeModel, SMALL_LAYERS, smallMlp } from '../fixtures/models.js';
import { randomRows, startModel } from './helpers.js';

const WIDTH = SMALL_LAYERS[0]!;

function sameBits(a: TensorValues, b: TensorValues): boolean {
  if (!ArrayBuffer.isView(a) || !ArrayBuffer.isView(b)) return JSON.stringify(a) === JSON.stringify(b);
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

describe('dynamic batching', () => {
  it('gives batched requests the same outputs, bit for bit, as single runs', async () => {
    const { engine, model } = await startModel(smallMlp(3), { batching: { maxBatchSize: 32, maxQueueDelayUs: 2000 } });
    const requests = Array.from({ length: 120 }, (_, i) => {
      const rows = 1 + (i % 3);
      return { obs: { data: randomRows(rows, WIDTH, i + 1), dims: [rows, WIDTH] } };
    });
    // One at a time: every batch holds exactly one request.
    const single: InferResult[] = [];
    for (const r of requests) single.push(await model.infer(r));
    expect(single.every((s, i) => s.batchRows === requests[i]!.obs.dims[0])).toBe(true);
    const before = engine.snapshot().models[0]!.batches;
    // All at once: requests share batches.
    const batched = await Promise.all(requests.map((r) => model.infer(r)));
    const batchesUsed = engine.snapshot().models[0]!.batches - before;
    expect(batchesUsed).toBeLessThan(requests.length / 2);
    expect(batched.some((b) => b.batchRows > 3)).toBe(true);
    batched.forEach((b, i) => {
      expect(b.outputs.logits!.dims).toEqual([requests[i]!.obs.dims[0], SMALL_LAYERS.at(-1)]);
      expect(sameBits(b.outputs.logits!.data, single[i]!.outputs.logits!.data)).toBe(true);
    });
  });

  it('serves every dtype it declares, batched, with outputs scattered to the right request', async () => {
    const { model } = await startModel(mixedDtypeModel(), { batching: { maxBatchSize: 64, maxQueueDelayUs: 2000 } });
    const make = (i: number, rows: number) => ({
      f32: { data: Float32Array.from({ length: rows * 3 }, (_, k) => i + k / 8), dims: [rows, 3] },
      f64: { data: Float64Array.from({ length: rows * 2 }, (_, k) => i * 1.25 + k), dims: [rows, 2] },
      i32: { data: Int32Array.from({ length: rows * 4 }, (_, k) => i * 100 + k), dims: [rows, 4] },
      i64: { data: BigInt64Array.from({ length: rows * 2 }, (_, k) => BigInt(i) * 3_000_000_000n + BigInt(k)), dims: [rows, 2] },
      u8: { data: Uint8Array.from({ length: rows * 5 }, (_, k) => (i * 7 + k) & 255), dims: [rows, 5] },
      flag: { data: Uint8Array.from({ length: rows * 3 }, (_, k) => (i + k) & 1), dims: [rows, 3], dtype: 'bool' as const },
    });
    const requests = Array.from({ length: 40 }, (_, i) => make(i, 1 + (i % 4)));
    const single: InferResult[] = [];
    for (const r of requests) single.push(await model.infer(r));
    const batched = await Promise.all(requests.map((r) => model.infer(r)));
    expect(batched.some((b) => b.batchRows > 4)).toBe(true);
    batched.forEach((result, i) => {
      const r = requests[i]!;
      const out = result.outputs;
      for (const name of Object.keys(out)) expect(sameBits(out[name]!.data, single[i]!.outputs[name]!.data)).toBe(true);
      expect(Array.from(out.f32_out!.data as Float32Array)).toEqual(Array.from(r.f32.data, (v) => Math.fround(v * 1.5)));
      expect(Array.from(out.f64_out!.data as Float64Array)).toEqual(Array.from(r.f64.data, (v) => v * v));
      expect(Array.from(out.i32_out!.data as Int32Array)).toEqual(Array.from(r.i32.data, (v) => v + v));
      expect(Array.from(out.i64_out!.data as BigInt64Array)).toEqual(Array.from(r.i64.data, (v) => BigInt.asIntN(64, v * v)));
      expect(Array.from(out.u8_out!.data as Uint8Array)).toEqual(Array.from(r.u8.data, (v) => ~v & 255));
      expect(Array.from(out.flag_out!.data as Uint8Array)).toEqual(Array.from(r.flag.data, (v) => (v ? 0 : 1)));
      expect(out.flag_out!.dtype).toBe('bool');
      expect(out.i64_out!.dims).toEqual(r.i64.dims);
    });
  });

  it('serves a fixed-batch model unbatched, one request per run, spread over several workers', async () => {
    const { engine, model } = await startModel(fixedBatchMlp(1, 5), { workers: { count: 2 } });
    expect(model.plan.mode).toBe('unbatched');
    const requests = Array.from({ length: 60 }, (_, i) => ({ obs: { data: randomRows(1, WIDTH, 100 + i), dims: [1, WIDTH] } }));
    const single: InferResult[] = [];
    for (const r of requests) single.push(await model.infer(r));
    const concurrent = await Promise.all(requests.map((r) => model.infer(r)));
    concurrent.forEach((c, i) => {
      expect(c.batchRows).toBe(1);
      expect(sameBits(c.outputs.logits!.data, single[i]!.outputs.logits!.data)).toBe(true);
    });
    const snapshot = engine.snapshot();
    expect(snapshot.models[0]!.batches).toBe(120);
    expect(snapshot.workers.filter((w) => w.batches > 0)).toHaveLength(2);
    await expect(model.infer({ obs: { data: randomRows(2, WIDTH, 1), dims: [2, WIDTH] } })).rejects.toThrow(/fixed at 1/);
  });

  it('sizes batches for callers whose answers are on their way back, so a closed loop runs in whole batches', async () => {
    const { model } = await startModel(smallMlp(), {
      workers: { count: 1, maxInflightBatches: 1 },
      batching: { maxBatchSize: 64, maxQueueDelayUs: 200_000 },
    });
    const callers = 16;
    const rounds = 8;
    const batchRows = await Promise.all(
      Array.from({ length: callers }, async (_, caller) => {
        const seen: number[] = [];
        for (let round = 0; round < rounds; round++) {
          const result = await model.infer({ obs: { data: randomRows(1, WIDTH, caller * rounds + round), dims: [1, WIDTH] } });
          seen.push(result.batchRows);
        }
        return seen;
      }),
    );
    // The first caller's first request finds an idle worker and runs alone. From then on
    // every batch holds every caller still running, although the queue holds one caller when
    // the first comes back; the last batch lacks the first caller, which has finished.
    const expected = Array.from({ length: callers }, (_, caller) =>
      Array.from({ length: rounds }, (_, round) => {
        if (caller === 0) return round === 0 ? 1 : callers;
        return round === rounds - 1 ? callers - 1 : callers;
      }),
    );
    expect(batchRows).toEqual(expected);
  });

  it('prefers configured batch sizes when more rows are waiting than the smallest one', async () => {
    const { engine, model } = await startModel(smallMlp(), {
      workers: { count: 1, maxInflightBatches: 1 },
      batching: { maxBatchSize: 64, maxQueueDelayUs: 1_000_000, preferredBatchSizes: [8] },
    });
    engine.pause('m');
    const pending = Array.from({ length: 20 }, (_, i) => model.infer({ obs: { data: randomRows(1, WIDTH, i), dims: [1, WIDTH] } }));
    engine.resume('m');
    const results = await Promise.all(pending);
    // 20 rows waiting, preferred 8: batches of 8, 8, then the rest at the delay or as a share.
    expect(results.slice(0, 16).every((r) => r.batchRows === 8)).toBe(true);
  });
});
