import { describe, expect, it } from 'vitest';
import { ChecksumMismatchError, IncompatibleModelError, ModelLoadError, type InferResult } from '../../src-main/engine/index.js';
import { buildMlp } from '../../src-main/models/mlp.js';
import { SMALL_LAYERS, smallMlp } from '../fixtures/models.js';
import { outcomes, randomRows, startModel, until } from './helpers.js';

const WIDTH = SMALL_LAYERS[0]!;
const request = (seed = 1) => ({ obs: { data: randomRows(1, WIDTH, seed), dims: [1, WIDTH] } });

/** Requests sent back to back by `concurrency` clients until `stop()`; every outcome is kept, with the number of the request. */
function steadyLoad(infer: (i: number) => Promise<InferResult>, concurrency = 16) {
  const results: InferResult[] = [];
  /** The number of each result's request, in sending order (results[i] answered request numbers[i]). */
  const numbers: number[] = [];
  const errors: Error[] = [];
  let running = true;
  let sent = 0;
  const clients = Array.from({ length: concurrency }, async () => {
    while (running) {
      const number = ++sent;
      try {
        const result = await infer(number);
        results.push(result);
        numbers.push(number);
      } catch (error) {
        errors.push(error as Error);
      }
    }
  });
  return {
    results,
    numbers,
    errors,
    get sent() {
      return sent;
    },
    async stop() {
      running = false;
      await Promise.all(clients);
    },
  };
}

describe('hot swap', () => {
  it('swaps versions under load without failing or losing a request, and tags each answer with its version', async () => {
    const { engine, model } = await startModel(smallMlp(1), { workers: { count: 2 } });
    const load = steadyLoad((i) => model.infer(request(i)));
    await until(() => load.results.length > 200, 10_000, 'load before the swap');
    const swap = await engine.swapModel('m', { version: 2, bytes: smallMlp(2), kind: 'follow-latest' });
    expect(swap).toMatchObject({ from: 1, to: 2, ok: true, kind: 'follow-latest' });
    expect(model.version).toBe(2);
    const sentBeforeActive = load.sent; // every request sent after this was accepted with version 2 active
    const answeredBefore = load.results.length;
    await until(() => load.results.length > answeredBefore + 200, 10_000, 'load after the swap');
    await load.stop();
    expect(load.errors).toEqual([]);
    expect(load.results.length).toBe(load.sent);
    const versions = load.results.map((r) => r.modelVersion);
    expect(versions.includes(1) && versions.includes(2)).toBe(true);
    // A request accepted once version 2 was active runs on version 2, never on the old one.
    const afterSwap = load.results.filter((_, i) => load.numbers[i]! > sentBeforeActive);
    expect(afterSwap.length).toBeGreaterThan(200);
    expect(afterSwap.filter((r) => r.modelVersion !== 2)).toEqual([]);
    // The old version is released once its requests are answered.
    await until(() => engine.modelVersions('m').length === 1, 5000, 'old version released');
    expect(engine.snapshot().workers.every((w) => w.versions.join() === '2')).toBe(true);
  });

  it('serves the new weights after the swap', async () => {
    const { engine, model } = await startModel(smallMlp(1));
    const input = request(9);
    const before = await model.infer(input);
    await engine.swapModel('m', { version: 7, bytes: smallMlp(7) });
    const after = await model.infer(input);
    expect(after.modelVersion).toBe(7);
    expect(after.outputs.logits!.data).not.toEqual(before.outputs.logits!.data);
  });

  it('keeps warm versions for an instant rollback', async () => {
    const { engine, model } = await startModel(smallMlp(1));
    await engine.swapModel('m', { version: 2, bytes: smallMlp(2) }, 2);
    expect(engine.modelVersions('m').map((v) => [v.version, v.state])).toEqual([
      [2, 'active'],
      [1, 'warm'],
    ]);
    const rollback = await engine.swapModel('m', { version: 1, bytes: smallMlp(1), kind: 'rollback' }, 2);
    expect(rollback).toMatchObject({ ok: true, loadMs: 0, kind: 'rollback', from: 2, to: 1 });
    expect((await model.infer(request())).modelVersion).toBe(1);
    expect(engine.snapshot().models[0]!.swaps.map((s) => s.to)).toEqual([2, 1]);
  });

  it('refuses an incompatible signature unless forced, and the old version keeps serving', async () => {
    const { engine, model } = await startModel(smallMlp(1));
    const wider = buildMlp({ layers: [WIDTH + 1, 8, 4], seed: 3 });
    await expect(engine.swapModel('m', { version: 2, bytes: wider })).rejects.toBeInstanceOf(IncompatibleModelError);
    expect(model.version).toBe(1);
    expect(engine.modelVersions('m').map((v) => v.version)).toEqual([1]);
    expect((await model.infer(request())).modelVersion).toBe(1);
    const failed = engine.snapshot().models[0]!.swaps.at(-1)!;
    expect(failed).toMatchObject({ ok: false, to: 2 });
    expect(failed.error).toMatch(/dim 1 changed from 16 to 17/);
    // Forced: the new signature applies to requests accepted from then on.
    await engine.swapModel('m', { version: 2, bytes: wider, force: true });
    const r = await model.infer({ obs: { data: randomRows(1, WIDTH + 1, 1), dims: [1, WIDTH + 1] } });
    expect(r.modelVersion).toBe(2);
    await expect(model.infer(request())).rejects.toMatchObject({ kind: 'dim' });
  });

  it('refuses bytes whose sha256 differs from the validated one, and corrupt bytes', async () => {
    const { engine, model } = await startModel(smallMlp(1));
    await expect(engine.swapModel('m', { version: 2, bytes: smallMlp(2), expectedSha256: '0'.repeat(64) })).rejects.toBeInstanceOf(
      ChecksumMismatchError,
    );
    await expect(engine.swapModel('m', { version: 3, bytes: new Uint8Array([1, 2, 3, 4]) })).rejects.toBeInstanceOf(ModelLoadError);
    expect(model.version).toBe(1);
    expect(engine.snapshot().workers.every((w) => w.versions.join() === '1' && w.state === 'ready')).toBe(true);
    expect(await outcomes(Array.from({ length: 20 }, (_, i) => model.infer(request(i))))).toEqual({ ok: 20 });
  });

  it('a worker restarted after a swap comes back with the active version', async () => {
    const { engine, model } = await startModel(smallMlp(1), { workers: { count: 2, restartBackoffInitialMs: 20 } });
    await engine.swapModel('m', { version: 5, bytes: smallMlp(5) });
    engine.injectFault('m', 0, 'crash-now');
    await until(
      () =>
        engine.snapshot().workers.every((w) => w.state === 'ready' && w.versions.join() === '5') &&
        engine.snapshot().workers.some((w) => w.restarts === 1),
      10_000,
      'restart with v5',
    );
    expect(await outcomes(Array.from({ length: 30 }, (_, i) => model.infer(request(i))))).toEqual({ ok: 30 });
  });
});
