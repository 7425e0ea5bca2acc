import { describe, expect, it } from 'vitest';
import { WorkerCrashedError } from '../../src-main/engine/index.js';
import { SMALL_LAYERS, smallMlp } from '../fixtures/models.js';
import { outcomes, randomRows, startModel, until } from './helpers.js';

const WIDTH = SMALL_LAYERS[0]!;
const request = (seed = 1) => ({ obs: { data: randomRows(1, WIDTH, seed), dims: [1, WIDTH] } });
const fastWatchdog = { heartbeatIntervalMs: 50, missedHeartbeats: 3, restartBackoffInitialMs: 50 };

describe('watchdog and recovery', () => {
  it('retries the requests of a crashed worker on another worker and restarts the crashed one', async () => {
    const { engine, model } = await startModel(smallMlp(), { workers: { count: 2, ...fastWatchdog } });
    const reference = await model.infer(request(42));
    const crashed = engine.injectFault('m', 0, 'crash-next-batch');
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => model.infer(request(i === 0 ? 42 : i))));
    expect(results).toHaveLength(50);
    expect(results[0]!.outputs.logits!.data).toEqual(reference.outputs.logits!.data);
    await until(
      () => engine.snapshot().workers.every((w) => w.state === 'ready') && engine.snapshot().workers.some((w) => w.restarts === 1),
      10_000,
      'restart',
    );
    const snap = engine.snapshot();
    const restarted = snap.workers.find((w) => w.id === crashed)!;
    expect(restarted).toMatchObject({ restarts: 1, state: 'ready' });
    expect(restarted.incarnation).toBe(2);
    expect(snap.models[0]!.requests.retried).toBeGreaterThan(0);
    expect(snap.models[0]!.requests.failed).toBe(0);
    expect(snap.recentEvents.map((e) => e.kind)).toEqual(expect.arrayContaining(['worker-crashed', 'worker-restarting', 'worker-ready']));
    // The restarted worker serves again.
    await expect(Promise.all(Array.from({ length: 20 }, (_, i) => model.infer(request(i))))).resolves.toHaveLength(20);
  });

  it('fails a request with WorkerCrashedError when its retry crashes too', async () => {
    const { engine, model } = await startModel(smallMlp(), {
      workers: { count: 2, maxInflightBatches: 1, ...fastWatchdog, restartBackoffInitialMs: 5000 },
    });
    engine.injectFault('m', 0, 'crash-next-batch');
    engine.injectFault('m', 1, 'crash-next-batch');
    const error = await model.infer(request()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkerCrashedError);
    expect(engine.snapshot().models[0]!.requests).toMatchObject({ failed: 1, retried: 1, running: 0 });
  });

  it('answers a batch its worker finished just before it died, without running it again', async () => {
    const { engine, model } = await startModel(smallMlp(), { workers: { count: 1, maxInflightBatches: 1, ...fastWatchdog } });
    const reference = await model.infer(request(7));
    // The thread reports the batch done, then exits. Completions are handled a turn after
    // they arrive, so the exit can be heard first; holding this thread while the worker
    // finishes makes that likely: the answer and the exit are then both waiting. (Either
    // order must give the same result; this one is the order that could re-run the batch.)
    engine.injectFault('m', 0, 'crash-after-batch');
    const batchesBefore = engine.snapshot().workers[0]!.batches;
    const answered = model.infer(request(7));
    const spinUntil = performance.now() + 10_000; // a bound: a synchronous loop would outlast the test's timeout
    while (engine.snapshot().workers[0]!.batches === batchesBefore && performance.now() < spinUntil); // counted just before 'done'
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100); // the thread's exit
    const answer = await answered;
    expect(answer.outputs.logits!.data).toEqual(reference.outputs.logits!.data);
    await until(() => engine.snapshot().workers[0]!.restarts === 1, 10_000, 'restart');
    const snap = engine.snapshot();
    expect(snap.recentEvents.some((e) => e.kind === 'worker-crashed')).toBe(true);
    expect(snap.models[0]!.requests).toMatchObject({ retried: 0, failed: 0 });
  });

  it('detects a hung worker by its missing heartbeats, retries its batch and restarts it', async () => {
    const { engine, model } = await startModel(smallMlp(), { workers: { count: 2, ...fastWatchdog } });
    // The hang comes before the batches in the worker's mailbox: they are in flight but never start.
    const hung = engine.injectFault('m', 1, 'hang-now');
    const counts = await outcomes(Array.from({ length: 40 }, (_, i) => model.infer(request(i))));
    expect(counts).toEqual({ ok: 40 });
    await until(() => engine.snapshot().workers.find((w) => w.id === hung)?.restarts === 1, 10_000, 'hung worker restarted');
    await until(() => engine.snapshot().workers.every((w) => w.state === 'ready'), 10_000, 'all ready');
    const events = engine.snapshot().recentEvents;
    expect(events.some((e) => e.kind === 'worker-hung' && e.worker === hung)).toBe(true);
  });

  it('detects a batch that runs past its time limit', async () => {
    const { engine, model } = await startModel(smallMlp(), {
      workers: { count: 1, heartbeatIntervalMs: 50, missedHeartbeats: 100, batchTimeoutMs: 300, restartBackoffInitialMs: 20 },
    });
    // Heartbeats would take 5 s to notice; the batch limit (300 ms) must catch it first.
    engine.injectFault('m', 0, 'hang-next-batch');
    expect((await model.infer(request())).outputs.logits!.dims).toEqual([1, SMALL_LAYERS.at(-1)]); // retried on the restarted worker
    // Caught by the batch limit, not by the (far later) heartbeat check: no timing needed to tell.
    expect(engine.snapshot().recentEvents.some((e) => /no heartbeat/.test(e.message))).toBe(false);
    expect(engine.snapshot().workers[0]!.restarts).toBe(1);
    expect(engine.snapshot().recentEvents.some((e) => e.kind === 'worker-hung' && /batch running/.test(e.message))).toBe(true);
  });

  it('queues a request accepted while the only worker is dead, and answers it once the worker is restarted', async () => {
    const { engine, model } = await startModel(smallMlp(), { workers: { count: 1, ...fastWatchdog, restartBackoffInitialMs: 300 } });
    engine.injectFault('m', 0, 'crash-now');
    await until(() => engine.snapshot().workers[0]!.state === 'dead', 5000, 'dead state');
    // Accepted while the only worker is down: queued, then answered once it is back.
    const pending = model.infer(request());
    expect(engine.snapshot().queues[0]!.depth).toBe(1);
    expect((await pending).outputs.logits!.dims).toEqual([1, SMALL_LAYERS.at(-1)]);
    expect(engine.snapshot().workers[0]).toMatchObject({ state: 'ready', restarts: 1 });
  });
});
