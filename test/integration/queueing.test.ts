import { describe, expect, it } from 'vitest';
import {
  AbortedError,
  InvalidInputError,
  QueueDrainingError,
  QueueFullError,
  QueueTimeoutError,
  RateLimitedError,
  RequestTimeoutError,
} from '../../src-main/engine/index.js';
import { SMALL_LAYERS, smallMlp } from '../fixtures/models.js';
import { randomRows, startModel, until } from './helpers.js';

const WIDTH = SMALL_LAYERS[0]!;
const request = (seed = 1) => ({ obs: { data: randomRows(1, WIDTH, seed), dims: [1, WIDTH] } });

describe('bounded queue in the engine', () => {
  it('rejects with QueueFullError when full (policy reject), enqueues nothing, and answers what it accepted', async () => {
    const { engine, model } = await startModel(smallMlp(), { queue: { capacity: 4, fullPolicy: 'reject' } });
    engine.pause('m');
    const accepted = Array.from({ length: 4 }, (_, i) => model.infer(request(i)));
    await expect(model.infer(request())).rejects.toBeInstanceOf(QueueFullError);
    const queue = engine.snapshot().queues[0]!;
    expect(queue).toMatchObject({ depth: 4, capacity: 4, highWater: 4, paused: true });
    expect(queue.rejected.full).toBe(1);
    engine.resume('m');
    expect(await Promise.all(accepted)).toHaveLength(4);
    expect(engine.snapshot().models[0]!.requests).toMatchObject({ accepted: 4, succeeded: 4 });
  });

  it('lets a caller wait for room under policy wait, and times it out when none comes', async () => {
    const { engine, model } = await startModel(smallMlp(), { queue: { capacity: 2, fullPolicy: 'wait', fullWaitTimeoutMs: 150 } });
    engine.pause('m');
    const first = [model.infer(request(1)), model.infer(request(2))];
    const waiting = model.infer(request(3));
    await until(() => engine.snapshot().queues[0]!.waitingForRoom === 1, 2000, 'a waiting caller');
    const timedOut = model.infer(request(4));
    // Both waiters time out while paused: nothing leaves the queue.
    await expect(waiting).rejects.toBeInstanceOf(QueueFullError);
    await expect(timedOut).rejects.toThrow(/stayed full/);
    engine.resume('m');
    await Promise.all(first);
    // With room, a waiting caller gets in as soon as a slot frees.
    engine.pause('m');
    const again = [model.infer(request(5)), model.infer(request(6))];
    const admitted = model.infer(request(7));
    engine.resume('m');
    await expect(admitted).resolves.toMatchObject({ modelVersion: 1 });
    await Promise.all(again);
  });

  it('rejects a request that waits in the queue past the queue timeout', async () => {
    const { engine, model } = await startModel(smallMlp(), { queue: { queueTimeoutMs: 100 } });
    engine.pause('m');
    // When it fires is held in test/unit/queue-sweep.test.ts, by fake timers; here, that the engine rejects and counts it.
    const rejected = model.infer(request());
    await expect(rejected).rejects.toBeInstanceOf(QueueTimeoutError);
    await expect(rejected).rejects.toMatchObject({
      code: 'QUEUE_TIMEOUT',
      timeoutMs: 100,
      message: 'request waited more than 100 ms in queue "m"',
    });
    const snap = engine.snapshot();
    expect(snap.queues[0]).toMatchObject({ depth: 0, timedOut: 1 });
    expect(snap.models[0]!.requests).toMatchObject({ accepted: 1, timedOut: 1, queued: 0, running: 0 });
  });

  it('times out a request by its own deadline while queued, and leaves the queue empty', async () => {
    const { engine, model } = await startModel(smallMlp());
    engine.pause('m');
    const error = await model.infer(request(), { timeoutMs: 40 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RequestTimeoutError);
    expect((error as RequestTimeoutError).stage).toBe('queued');
    expect(engine.snapshot().queues[0]!.depth).toBe(0);
  });

  it('times out and aborts requests that are running', async () => {
    const { engine, model } = await startModel(smallMlp(), {
      workers: { count: 1, heartbeatIntervalMs: 1000, missedHeartbeats: 100, batchTimeoutMs: 600_000 },
    });
    engine.injectFault('m', 0, 'hang-next-batch');
    const controller = new AbortController();
    const timed = model.infer(request(1), { timeoutMs: 100 });
    const aborted = model.infer(request(2), { signal: controller.signal });
    await until(() => engine.snapshot().models[0]!.requests.running === 2, 5000, 'both requests running');
    controller.abort();
    const abortError = await aborted.catch((e: unknown) => e);
    expect(abortError).toBeInstanceOf(AbortedError);
    expect((abortError as AbortedError).stage).toBe('running');
    const timeoutError = await timed.catch((e: unknown) => e);
    expect(timeoutError).toBeInstanceOf(RequestTimeoutError);
    expect((timeoutError as RequestTimeoutError).stage).toBe('running');
    expect(engine.snapshot().models[0]!.requests).toMatchObject({ timedOut: 1, aborted: 1, running: 0 });
  });

  it('aborts a queued request and refuses an already-aborted one', async () => {
    const { engine, model } = await startModel(smallMlp());
    const controller = new AbortController();
    controller.abort();
    await expect(model.infer(request(), { signal: controller.signal })).rejects.toMatchObject({ stage: 'before_enqueue' });
    engine.pause('m');
    const queued = new AbortController();
    const pending = model.infer(request(), { signal: queued.signal });
    queued.abort();
    await expect(pending).rejects.toMatchObject({ code: 'ABORTED', stage: 'queued' });
    expect(engine.snapshot().queues[0]!.depth).toBe(0);
  });

  it('drains: refuses new requests, answers every queued one, then takes requests again', async () => {
    const { engine, model } = await startModel(smallMlp());
    engine.pause('m');
    const queued = Array.from({ length: 10 }, (_, i) => model.infer(request(i)));
    const drained = engine.drain('m');
    await expect(model.infer(request())).rejects.toBeInstanceOf(QueueDrainingError);
    await drained;
    expect(await Promise.all(queued)).toHaveLength(10);
    expect(engine.snapshot().queues[0]).toMatchObject({ depth: 0, draining: false, paused: true });
    engine.resume('m');
    expect((await model.infer(request())).outputs.logits!.dims).toEqual([1, SMALL_LAYERS.at(-1)]);
  });

  it('rate-limits enqueues per queue and per client with a retry-after hint, enqueuing nothing', async () => {
    const { engine, model } = await startModel(smallMlp(), {
      rateLimit: { perQueue: { ratePerSecond: 0.001, burst: 3 }, perClient: { ratePerSecond: 0.001, burst: 1 } },
    });
    await model.infer(request(), { clientId: 'a' });
    const perClient = await model.infer(request(), { clientId: 'a' }).catch((e: unknown) => e);
    expect(perClient).toBeInstanceOf(RateLimitedError);
    expect(perClient).toMatchObject({ scope: 'client', key: 'a' });
    expect((perClient as RateLimitedError).retryAfterMs).toBeGreaterThan(0);
    await model.infer(request(), { clientId: 'b' });
    await model.infer(request());
    await expect(model.infer(request(), { clientId: 'c' })).rejects.toMatchObject({ scope: 'queue' });
    const snap = engine.snapshot();
    expect(snap.models[0]!.requests.accepted).toBe(3);
    expect(snap.queues[0]!.rejected.rateLimited).toBe(2);
  });

  it('rejects bad input with a typed error and enqueues nothing', async () => {
    const { engine, model } = await startModel(smallMlp(), { checkFinite: true });
    await expect(model.infer({ obs: { data: new Float32Array(WIDTH), dims: [1, WIDTH + 1] } })).rejects.toBeInstanceOf(InvalidInputError);
    await expect(model.infer({ obs: { data: new Float32Array(WIDTH).fill(Number.NaN), dims: [1, WIDTH] } })).rejects.toMatchObject({
      kind: 'non_finite',
    });
    await expect(engine.infer('nope', request())).rejects.toMatchObject({ code: 'UNKNOWN_MODEL' });
    // Options too: a NaN deadline would sit at the top of the deadline heap and hold back every other one.
    for (const timeoutMs of [Number.NaN, Infinity, -1])
      await expect(model.infer(request(), { timeoutMs })).rejects.toMatchObject({ code: 'INVALID_INPUT', kind: 'option' });
    const snap = engine.snapshot();
    expect(snap.models[0]!.requests.accepted).toBe(0);
    expect(snap.queues[0]!.enqueued).toBe(0);
    expect(snap.queues[0]!.rejected.invalid).toBe(5);
    // A request with a good deadline after them is answered.
    await expect(model.infer(request(), { timeoutMs: 30_000 })).resolves.toMatchObject({ modelVersion: 1 });
  });

  it('applies new queue and batching settings live, validated', async () => {
    const { engine, model } = await startModel(smallMlp(), { queue: { capacity: 2 } });
    engine.reconfigureQueue('m', { capacity: 5, fullPolicy: 'wait' });
    engine.reconfigureBatching('m', { maxBatchSize: 16, maxQueueDelayUs: 250 });
    const snap = engine.snapshot();
    expect(snap.queues[0]).toMatchObject({ capacity: 5, policy: { fullPolicy: 'wait' } });
    expect(snap.models[0]!.batching).toMatchObject({ maxBatchRows: 16, maxQueueDelayUs: 250 });
    expect(() => engine.reconfigureQueue('m', { capacity: 0 })).toThrow(/capacity/);
    expect(() => engine.reconfigureBatching('m', { maxBatchSize: 4096 })).toThrow(/exceeds/);
    expect(engine.snapshot().queues[0]!.capacity).toBe(5);
    expect((await model.infer(request())).outputs.logits!.dims).toEqual([1, SMALL_LAYERS.at(-1)]);
  });
});
