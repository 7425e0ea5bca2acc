/**
 * Fidelity: every class of model in fidelity-models is served, under concurrent requests,
 * with outputs identical bit for bit to a direct onnxruntime run of the same input, and
 * batched only where the probe showed rows do not interact.
 */
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { PROBE_TOLERANCE } from '../../src-main/engine/batching-probe.js';
import type { DType, TensorValues } from '../../src-main/engine/dtypes.js';
import { Engine, isPackedPlan, type EngineEvent, type ModelServingConfigInput } from '../../src-main/engine/index.js';
import { fidelityCases, gatherTable, timeMajorCumSum, type FidelityCase, type FixtureRequest } from '../fixtures/fidelity-models.js';
import { smallMlp } from '../fixtures/models.js';
import { startModel } from './helpers.js';

interface Plain {
  dtype: string;
  dims: number[];
  bytes: string;
}

/** A tensor as comparable text: its dtype, dims and exact bytes (or strings). */
function plain(dtype: string, dims: readonly number[], data: TensorValues): Plain {
  const bytes = ArrayBuffer.isView(data)
    ? Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('hex')
    : JSON.stringify(data);
  return { dtype, dims: [...dims], bytes };
}

/** Same names, dtypes and dims; float32 values within the probe's tolerance, anything else byte for byte. */
function closeEnough(got: Record<string, Plain>, want: Record<string, Plain>): boolean {
  const floats = (p: Plain) => new Float32Array(new Uint8Array(Buffer.from(p.bytes, 'hex')).buffer);
  if (Object.keys(got).sort().join() !== Object.keys(want).sort().join()) return false;
  return Object.keys(want).every((name) => {
    const [a, b] = [got[name]!, want[name]!];
    if (a.dtype !== b.dtype || a.dims.join() !== b.dims.join()) return false;
    if (a.dtype !== 'float32') return a.bytes === b.bytes;
    const [x, y] = [floats(a), floats(b)];
    return x.every((v, k) => Math.abs(v - y[k]!) <= PROBE_TOLERANCE.absolute + PROBE_TOLERANCE.relative * Math.abs(y[k]!));
  });
}

async function directRun(session: ort.InferenceSession, request: FixtureRequest): Promise<Record<string, Plain>> {
  const feeds: Record<string, ort.Tensor> = {};
  for (const [name, t] of Object.entries(request)) {
    const dtype = t.dtype ?? dtypeOf(t.data);
    // onnxruntime-node's Tensor constructor is typed per dtype; the fixtures pair each dtype with its array.
    feeds[name] = new ort.Tensor(dtype as 'float32', t.data as Float32Array, t.dims);
  }
  const results = await session.run(feeds);
  const out: Record<string, Plain> = {};
  for (const [name, t] of Object.entries(results)) {
    out[name] = plain(t.type === 'float16' ? 'float16' : t.type, t.dims, t.data);
  }
  return out;
}

function dtypeOf(data: TensorValues): DType {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof BigInt64Array) return 'int64';
  if (data instanceof BigUint64Array) return 'uint64';
  if (data instanceof Uint32Array) return 'uint32';
  throw new Error('fixture tensor needs an explicit dtype');
}

const sessions: ort.InferenceSession[] = [];
afterAll(async () => {
  await Promise.all(sessions.map((s) => s.release()));
});

/** Serve `requests` of case `c` concurrently and hold every answer to a direct onnxruntime run of it. */
async function expectServedAsDirect(c: FidelityCase, config: ModelServingConfigInput, count: number) {
  const session = await ort.InferenceSession.create(c.bytes);
  sessions.push(session);
  const { engine, model } = await startModel(c.bytes, { batching: { maxBatchSize: 16, maxQueueDelayUs: 3000 }, ...config });
  const decision = engine.snapshot().models[0]!.batching.decision;
  expect(decision.batched, decision.reason).toBe(c.batched);
  expect(['dynamic', 'grouped'].includes(model.plan.mode)).toBe(c.batched);

  const requests = c.requests(count);
  const expected = await Promise.all(requests.map((r) => directRun(session, r)));
  const served = await Promise.all(requests.map((r) => model.infer(r)));
  // Bit for bit when each request runs alone. Batched, float32 kernels may block differently at
  // another batch size (a sum over a sequence of 7 differs in its last bit from a batch of 1):
  // those are held to the probe's stated tolerance, every other dtype to its bytes.
  const exact = !c.batched;
  served.forEach((result, i) => {
    const got: Record<string, Plain> = {};
    for (const [name, t] of Object.entries(result.outputs)) got[name] = plain(t.dtype, t.dims, t.data);
    if (exact) expect(got, `request ${i}`).toEqual(expected[i]);
    else expect(closeEnough(got, expected[i]!), `request ${i}`).toBe(true);
  });
  return { engine, model, served };
}

/** Whether a request's inputs fit in one slot as the engine packs them: numbers only, each at a 64-byte boundary. */
function fitsInSlot(request: FixtureRequest, slotBytes: number): boolean {
  let end = 0;
  for (const t of Object.values(request)) {
    if (!ArrayBuffer.isView(t.data)) return false;
    end = Math.ceil(end / 64) * 64 + t.data.byteLength;
  }
  return end <= slotBytes;
}

/** The arenas of a packed plan's workers: every run accounted, and nothing held once all are answered. */
function packedArenas(engine: Engine) {
  const arenas = engine.snapshot().arenas.filter((a) => a.kind === 'bytes' || a.kind === 'transfer');
  expect(arenas.reduce((n, a) => n + a.acquired, 0)).toBe(engine.snapshot().models[0]!.batches);
  expect(arenas.every((a) => a.usedBytes === 0 && a.transferBytes === 0 && a.slotsInUse === 0)).toBe(true);
  expect(arenas.some((a) => a.highWaterBytes > 0)).toBe(true);
  return arenas;
}

describe('every model is served as onnxruntime runs it', () => {
  for (const c of fidelityCases()) {
    it(`${c.name}: served answers equal direct runs, under concurrency`, async () => {
      const { engine, model, served } = await expectServedAsDirect(c, {}, 48);
      if (c.batched) expect(served.some((s) => s.batchRows > 3)).toBe(true);
      // Shapes that vary travel in slots sized in bytes; rows in the row arena.
      if (isPackedPlan(model.plan)) {
        const arenas = packedArenas(engine);
        expect(arenas.every((a) => a.kind === 'bytes')).toBe(true);
        // Only strings, which have no fixed bytes, leave the slot when it is 1 MiB.
        const strings = c.name === 'string tensors';
        expect(arenas.some((a) => a.transferRuns > 0)).toBe(strings);
      } else expect(engine.snapshot().arenas.every((a) => a.kind === 'arena')).toBe(true);
    });
  }
});

describe('tensors a byte slot cannot hold move by transfer, with the same answers', () => {
  // 32-byte slots hold a scalar, part of most runs (the first of two inputs, a short NonZero
  // output) and never strings; 0-byte slots hold nothing. The answers must not change.
  const packed = fidelityCases().filter((c) => c.name !== 'Gather whose probe fails');
  for (const [slotBytes, kind] of [
    [32, 'bytes'],
    [0, 'transfer'],
  ] as const) {
    for (const c of packed) {
      it(`${c.name}: ${slotBytes}-byte slots`, async () => {
        const { engine, model } = await expectServedAsDirect(c, { workers: { variableSlotBytes: slotBytes } }, 12);
        if (!isPackedPlan(model.plan)) {
          expect(engine.snapshot().arenas.every((a) => a.kind === 'arena')).toBe(true);
          return;
        }
        const arenas = packedArenas(engine);
        expect(arenas.every((a) => a.kind === kind && a.capacityBytes === a.slots * slotBytes)).toBe(true);
        // The totals are shared memory: the byte slots, and nothing for a 0-byte lane.
        expect(engine.snapshot().arenaTotals.capacityBytes).toBe(slotBytes * arenas.reduce((n, a) => n + a.slots, 0));
        const runs = arenas.reduce((n, a) => n + a.acquired, 0);
        const transferRuns = arenas.reduce((n, a) => n + a.transferRuns, 0);
        if (slotBytes === 0) expect(transferRuns).toBe(runs);
        // (In these fixtures, where every input of a request fits, so do its outputs.)
        else expect(transferRuns > 0).toBe(c.requests(12).some((r) => !fitsInSlot(r, slotBytes)));
      });
    }
  }
});

describe('the batching probe', () => {
  it('batches a model whose rows are independent, with its evidence in the snapshot', async () => {
    const { engine } = await startModel(smallMlp(2));
    const decision = engine.snapshot().models[0]!.batching.decision;
    expect(decision).toMatchObject({ batched: true, mode: 'auto' });
    expect(decision.evidence).toMatchObject({ rowsIndependent: true, error: null });
    expect(decision.evidence!.maxAbsDiff).toBeLessThanOrEqual(1e-5);
  });

  it('serves a model whose rows interact unbatched, saying which output differed and by how much', async () => {
    const { engine } = await startModel(timeMajorCumSum().bytes);
    const decision = engine.snapshot().models[0]!.batching.decision;
    expect(decision.batched).toBe(false);
    expect(decision.evidence).toMatchObject({ rowsIndependent: false, error: null });
    expect(decision.evidence!.maxAbsDiff).toBeGreaterThan(0);
    expect(decision.evidence!.difference).toMatch(/output "y" row \d+ element 0/);
    expect(decision.reason).toContain(`rows interact along dim 0: ${decision.evidence!.difference}`);
  });

  it('serves a model whose probe run fails unbatched, with the error as the reason', async () => {
    const { engine, model } = await startModel(gatherTable().bytes);
    const decision = engine.snapshot().models[0]!.batching.decision;
    expect(decision.batched).toBe(false);
    expect(decision.evidence!.error).toMatch(/indices|out of bounds|range/i);
    expect(decision.reason).toContain(decision.evidence!.error!.slice(0, 40));
    const answer = await model.infer({ i: { data: new BigInt64Array([2n, 0n]), dims: [2] } });
    expect(Array.from(answer.outputs.y!.data as Float32Array)).toEqual([5, 6, 1, 2]);
  });

  it('reports the decision as an event, warning when a candidate is refused', async () => {
    const engine = new Engine();
    const events: EngineEvent[] = [];
    engine.onEvent((e) => events.push(e));
    try {
      await engine.loadModel({ name: 'cumsum', source: timeMajorCumSum().bytes });
      await engine.loadModel({ name: 'mlp', source: smallMlp(1) });
    } finally {
      await engine.stop(1000);
    }
    const decided = events.filter((e) => e.kind === 'batching-decided');
    expect(decided.map((e) => [e.model, e.level])).toEqual([
      ['cumsum', 'warn'],
      ['mlp', 'info'],
    ]);
  });

  it('obeys the operator: "dim0" batches without a probe, "none" never batches', async () => {
    const forced = await startModel(timeMajorCumSum().bytes, { batching: { mode: 'dim0' } }, 'forced');
    expect(forced.model.plan.mode).toBe('dynamic');
    expect(forced.engine.snapshot().models[0]!.batching.decision).toMatchObject({ batched: true, mode: 'dim0', evidence: null });
    const off = await startModel(smallMlp(1), { batching: { mode: 'none' } }, 'off');
    expect(off.model.plan.mode).not.toBe('dynamic');
    expect(off.engine.snapshot().models[0]!.batching.decision).toMatchObject({ batched: false, mode: 'none' });
  });
});
