import { describe, expect, it } from 'vitest';
import { Engine, ModelLoadError, ShuttingDownError, StartupTimeoutError, UnsupportedModelError } from '../../src-main/engine/index.js';
import { SMALL_LAYERS, smallMlp, noInputModel } from '../fixtures/models.js';
import { outcomes, randomRows, startModel, until } from './helpers.js';

const WIDTH = SMALL_LAYERS[0]!;
const request = (seed = 1, rows = 1) => ({ obs: { data: randomRows(rows, WIDTH, seed), dims: [rows, WIDTH] } });

function resources(): string[] {
  return process.getActiveResourcesInfo().sort();
}

/** Resources alive now that were not alive before (the test runner's own may come and go). */
function leakedSince(before: string[]): string[] {
  const remaining = [...before];
  return resources().filter((r) => {
    const i = remaining.indexOf(r);
    if (i < 0) return true;
    remaining.splice(i, 1);
    return false;
  });
}

describe('engine lifecycle', () => {
  it('fails start with StartupTimeoutError when workers are not ready in time, leaving no thread behind', async () => {
    const before = resources();
    const engine = new Engine();
    await expect(engine.loadModel({ name: 'm', source: smallMlp(), config: { workers: { startupTimeoutMs: 1 } } })).rejects.toBeInstanceOf(
      StartupTimeoutError,
    );
    expect(engine.modelNames()).toEqual([]);
    await engine.stop();
    expect(leakedSince(before)).toEqual([]);
  });

  it('refuses a corrupt model with ModelLoadError and a model with no inputs with UnsupportedModelError', async () => {
    const before = resources();
    const engine = new Engine();
    const garbage = new Uint8Array(256).map((_, i) => (i * 37) & 255);
    await expect(engine.loadModel({ name: 'bad', source: garbage })).rejects.toBeInstanceOf(ModelLoadError);
    await expect(engine.loadModel({ name: 'empty', source: noInputModel() })).rejects.toBeInstanceOf(UnsupportedModelError);
    await expect(engine.loadModel({ name: 'missing', source: '/nonexistent/model.onnx' })).rejects.toThrow(/cannot read model file/);
    await expect(engine.loadModel({ name: '../escape', source: smallMlp() })).rejects.toThrow(/model name/);
    expect(engine.modelNames()).toEqual([]);
    await engine.stop();
    // The failed open's request object goes away on a later turn of the loop.
    await until(() => leakedSince(before).length === 0, 2000, `no leaked resources (${leakedSince(before).join(', ')})`);
  });

  it('stop drains: every accepted request is answered, then the engine refuses new ones', async () => {
    const { engine, model } = await startModel(smallMlp());
    const pending = Array.from({ length: 300 }, (_, i) => model.infer(request(i)));
    await engine.stop(10_000);
    expect(await outcomes(pending)).toEqual({ ok: 300 });
    await expect(model.infer(request())).rejects.toBeInstanceOf(ShuttingDownError);
  });

  it('stop rejects what cannot finish in the drain time with ShuttingDownError, and loses nothing', async () => {
    const { engine, model } = await startModel(smallMlp());
    engine.pause('m');
    const queued = Array.from({ length: 50 }, (_, i) => model.infer(request(i)));
    // Paused forever from the caller's point of view: stop unpauses to drain, so block the workers instead.
    engine.injectFault('m', 0, 'hang-next-batch');
    engine.injectFault('m', 1, 'hang-next-batch');
    engine.resume('m');
    await until(() => engine.snapshot().models[0]!.requests.running > 0, 5000, 'requests running');
    await engine.stop(100);
    const counts = await outcomes(queued);
    expect(counts).toEqual({ ShuttingDownError: 50 });
  });

  it('leaks no thread, timer or handle after serving and stopping', async () => {
    const before = resources();
    const engine = new Engine();
    const model = await engine.loadModel({ name: 'm', source: smallMlp(), config: { workers: { count: 2 } } });
    await Promise.all(
      Array.from({ length: 200 }, (_, i) => model.infer(request(i), { timeoutMs: 60_000, signal: new AbortController().signal })),
    );
    engine.resizeWorkers('m', 3);
    await until(() => engine.snapshot().workers.filter((w) => w.state === 'ready').length === 3, 10_000, 'third worker');
    engine.injectFault('m', 2, 'crash-now');
    await until(() => engine.snapshot().workers.some((w) => w.restarts > 0 && w.state === 'ready'), 10_000, 'restart');
    const threads = engine.snapshot().workers.map((w) => w.threadId);
    expect(threads.every((t) => typeof t === 'number')).toBe(true);
    expect(leakedSince(before)).toContain('MessagePort');
    await engine.stop();
    expect(leakedSince(before)).toEqual([]);
    expect(engine.snapshot().state).toBe('stopped');
  });

  it('resizes the worker pool live without failing requests', async () => {
    const { engine, model } = await startModel(smallMlp(), { workers: { count: 1 } });
    const load = Array.from({ length: 400 }, (_, i) => model.infer(request(i)));
    engine.resizeWorkers('m', 3);
    await until(
      () => engine.snapshot().workers.length === 3 && engine.snapshot().workers.every((w) => w.state === 'ready'),
      10_000,
      'grow',
    );
    engine.resizeWorkers('m', 1);
    expect(await outcomes(load)).toEqual({ ok: 400 });
    await until(() => engine.snapshot().workers.length === 1, 10_000, 'shrink');
    expect((await model.infer(request())).outputs.logits!.dims).toEqual([1, SMALL_LAYERS.at(-1)]);
  });
});

describe('statistics under concurrency', () => {
  it('adds up exactly: every call is accepted or rejected, every accepted request has one outcome', async () => {
    const { engine, model } = await startModel(smallMlp(), {
      queue: { capacity: 64 },
      workers: { count: 2 },
      rateLimit: { perClient: { ratePerSecond: 50, burst: 20 } },
    });
    const calls: Promise<unknown>[] = [];
    const controllers: AbortController[] = [];
    // Outcomes are read at the end; mark each promise handled now so none counts as unhandled meanwhile.
    const track = (p: Promise<unknown>) => {
      p.catch(() => undefined);
      calls.push(p);
    };
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 40; i++) {
        const kind = (round * 40 + i) % 10;
        if (kind === 0)
          track(model.infer({ obs: { data: new Float32Array(3), dims: [1, 3] } })); // invalid
        else if (kind === 1)
          track(model.infer(request(i), { timeoutMs: 1 })); // likely to time out
        else if (kind === 2) {
          const c = new AbortController();
          controllers.push(c);
          track(model.infer(request(i), { signal: c.signal }));
        } else if (kind === 3)
          track(model.infer(request(i), { clientId: `client-${i % 2}` })); // rate-limited clients
        else track(model.infer(request(i, 1 + (i % 3))));
      }
      controllers.splice(0).forEach((c, k) => k % 2 === 0 && c.abort());
      await new Promise((resolve) => setImmediate(resolve));
    }
    const counts = await outcomes(calls);
    const snap = engine.snapshot();
    const m = snap.models[0]!;
    const q = snap.queues[0]!;
    const r = m.requests;
    expect(r.queued + r.running).toBe(0);
    expect(r.accepted).toBe(r.succeeded + r.failed + r.timedOut + r.aborted);
    const rejected = q.rejected.full + q.rejected.rateLimited + q.rejected.invalid + q.rejected.draining + q.rejected.shuttingDown;
    expect(calls.length).toBe(r.accepted + rejected);
    expect(counts.ok).toBe(r.succeeded);
    expect(counts.InvalidInputError).toBe(q.rejected.invalid);
    expect(counts.QueueFullError ?? 0).toBe(q.rejected.full);
    expect(counts.RateLimitedError ?? 0).toBe(q.rejected.rateLimited);
    expect((counts.RequestTimeoutError ?? 0) + (counts.QueueTimeoutError ?? 0)).toBe(r.timedOut);
    expect(counts.AbortedError ?? 0).toBe(r.aborted);
    // The queue's own ledger: every entry (retries included) left by dispatch or removal.
    expect(q.depth).toBe(0);
    expect(q.enqueued).toBe(r.accepted + r.retried);
    expect(q.enqueued).toBeGreaterThanOrEqual(q.dequeued);
    // Workers' counters, written by the worker threads, agree with the batcher's.
    const workerBatches = snap.workers.reduce((s, w) => s + w.batches, 0);
    expect(workerBatches).toBe(m.batches);
    const bucketTotal = m.batchSizeBuckets.reduce((s, b) => s + b.count, 0);
    expect(bucketTotal).toBe(m.batches);
    expect(m.lifetimeLatencyMs.total.count).toBe(r.succeeded);
    expect(snap.arenaTotals.usedBytes).toBe(0);
  });
});
