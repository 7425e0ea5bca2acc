/**
 * The runner and its pool driven through their seams: scripted threads (fake-worker-thread.ts)
 * and a hand-moved clock, so batch assembly, balancer choices, watchdog verdicts, retries and
 * swap bookkeeping are checked without onnxruntime or timing. Waits are for a turn of the
 * event loop (replies and completions arrive on later turns), or for an event the engine emits.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseServingConfig, type ModelServingConfigInput } from '../../src-main/engine/config.js';
import {
  InferenceFailedError,
  InvalidInputError,
  ModelLoadError,
  VersionUnavailableError,
  WorkerCrashedError,
} from '../../src-main/engine/errors.js';
import { EventLog, type EngineEvent } from '../../src-main/engine/events.js';
import { ModelRunner } from '../../src-main/engine/model-runner.js';
import type { InferResult } from '../../src-main/engine/request.js';
import { FakeWorkerFarm, ManualClock } from './fake-worker-thread.js';

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

async function turns(n = 3): Promise<void> {
  for (let i = 0; i < n; i++) await nextTurn();
}

const rowsOf = (...values: number[][]) => ({ x: { data: Float32Array.from(values.flat()), dims: [values.length, 4] } });

function yOf(result: InferResult): number[] {
  return [...(result.outputs.y!.data as Float32Array)];
}

let runners: ModelRunner[] = [];

async function startRunner(config: ModelServingConfigInput, farm = new FakeWorkerFarm(), clock = new ManualClock()) {
  const events = new EventLog();
  const runner = new ModelRunner(
    { name: 'doubler', version: 1, bytes: new Uint8Array([1]) },
    parseServingConfig({ batching: { maxQueueDelayUs: 0, maxBatchSize: 8 }, ...config }),
    events,
    10,
    { transport: farm.transport, clock },
  );
  runners.push(runner);
  await runner.start();
  return { runner, farm, clock, events };
}

function nextEvent(events: EventLog, kind: EngineEvent['kind']): Promise<EngineEvent> {
  return new Promise((resolve) => {
    const unsubscribe = events.subscribe((event) => {
      if (event.kind !== kind) return;
      unsubscribe();
      resolve(event);
    });
  });
}

afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(runners.map((r) => r.stop(100)));
  runners = [];
});

describe('ModelRunner with scripted workers', () => {
  it('gathers requests that queue while the worker is busy into one batch, and answers each with its own rows', async () => {
    const { runner, farm } = await startRunner({ workers: { count: 1, maxInflightBatches: 1 } });
    const first = runner.infer(rowsOf([1, 2, 3, 4]));
    await turns();
    expect(farm.runningBatches().map((b) => b.run.rows)).toEqual([1]);

    const queued = [
      runner.infer(rowsOf([5, 5, 5, 5])),
      runner.infer(rowsOf([6, 6, 6, 6], [7, 7, 7, 7])),
      runner.infer(rowsOf([8, 8, 8, 8])),
    ];
    await turns();
    expect(farm.runningBatches()).toHaveLength(1); // the one slot is lent out
    expect(runner.snapshotQueue().depth).toBe(3);

    farm.runningBatches()[0]!.thread.finish();
    expect(yOf(await first)).toEqual([2, 4, 6, 8]);
    await turns();
    expect(farm.runningBatches().map((b) => b.run.rows)).toEqual([4]);

    farm.runningBatches()[0]!.thread.finish();
    const [a, b, c] = await Promise.all(queued);
    expect(yOf(a!)).toEqual([10, 10, 10, 10]);
    expect(yOf(b!)).toEqual([12, 12, 12, 12, 14, 14, 14, 14]);
    expect(yOf(c!)).toEqual([16, 16, 16, 16]);
    expect(b!.batchRows).toBe(4);
    const model = runner.snapshotModel();
    expect(model.batches).toBe(2);
    expect(model.requests).toMatchObject({ accepted: 4, succeeded: 4, running: 0, queued: 0 });
    expect(runner.arenaStats().every((a) => a.slotsInUse === 0)).toBe(true);
  });

  it.each([
    ['first timed out, third aborted', ['timeout', 'answer', 'abort', 'answer']],
    ['first aborted, last timed out', ['abort', 'answer', 'answer', 'timeout']],
    ['middle two gone', ['answer', 'timeout', 'abort', 'answer']],
  ] as const)(
    'answers the rest of a running batch with their own rows when requests in it time out or are aborted (%s)',
    async (_, fates) => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] }); // a deadline is a timer on the injected clock
      const { runner, farm, clock } = await startRunner({ workers: { count: 1, maxInflightBatches: 1 } });
      const first = runner.infer(rowsOf([0, 0, 0, 0]));
      await turns();
      const controllers = fates.map(() => new AbortController());
      const outcomes = fates.map((fate, i) =>
        runner
          .infer(rowsOf([i + 1, i + 1, i + 1, i + 1]), {
            ...(fate === 'timeout' ? { timeoutMs: 50 } : {}),
            ...(fate === 'abort' ? { signal: controllers[i]!.signal } : {}),
          })
          .then(yOf, (error: unknown) => error),
      );
      await turns();
      farm.runningBatches()[0]!.thread.finish();
      await first;
      await turns();
      expect(farm.runningBatches().map((b) => b.run.rows)).toEqual([4]); // all four run together
      fates.forEach((fate, i) => fate === 'abort' && controllers[i]!.abort());
      clock.advance(50);
      vi.advanceTimersByTime(50);
      farm.runningBatches()[0]!.thread.finish();
      const settled = await Promise.all(outcomes);
      fates.forEach((fate, i) => {
        if (fate === 'answer') expect(settled[i]).toEqual([2, 2, 2, 2].map((v) => v * (i + 1)));
        else if (fate === 'timeout') expect(settled[i]).toMatchObject({ code: 'REQUEST_TIMEOUT' });
        else expect(settled[i]).toMatchObject({ code: 'ABORTED', stage: 'running' });
      });
      expect(runner.snapshotModel().requests).toMatchObject({ timedOut: 1, aborted: 1, succeeded: 3, running: 0 });
    },
  );

  it('sends the next batch to the worker expected to finish first', async () => {
    const { runner, farm } = await startRunner({ workers: { count: 2, maxInflightBatches: 2 } });
    void runner.infer(rowsOf([1, 1, 1, 1]));
    await turns();
    void runner.infer(rowsOf([2, 2, 2, 2]));
    await turns();
    const onThreads = farm.runningBatches().map((b) => b.thread.init.workerId);
    expect(onThreads).toHaveLength(2);
    expect(new Set(onThreads).size).toBe(2); // not both on one worker, though it had a second slot free
    for (const { thread } of farm.runningBatches()) thread.finish();
  });

  it("retries a lost worker's batch once on the restarted worker, and rejects it after a second loss", async () => {
    const { runner, farm, events } = await startRunner({ workers: { count: 1, restartBackoffInitialMs: 1 } });
    const answer = runner.infer(rowsOf([1, 2, 3, 4]));
    await turns();
    const [lost] = farm.runningBatches();
    const ready = nextEvent(events, 'worker-ready');
    lost!.thread.exit(1);
    await ready;
    await turns();
    const [retried] = farm.runningBatches();
    expect(retried!.thread).not.toBe(lost!.thread);
    expect(retried!.run.rows).toBe(1);

    retried!.thread.exit(1);
    await expect(answer).rejects.toBeInstanceOf(WorkerCrashedError);
    const model = runner.snapshotModel();
    expect(model.requests).toMatchObject({ retried: 1, failed: 1, succeeded: 0, running: 0 });
    expect(runner.workerStats()[0]!.restarts).toBeGreaterThanOrEqual(1);
  });

  it('restarts a dead worker after a backoff that doubles with each loss in a row up to its cap, and starts again once it finishes a batch', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] }); // the restart's timer is the behaviour under test
    const { runner, farm, events } = await startRunner({ workers: { count: 1, restartBackoffInitialMs: 100, restartBackoffMaxMs: 350 } });
    const delays: string[] = [];
    events.subscribe((e) => {
      if (e.kind === 'worker-restarting') delays.push(e.message);
    });
    /** Kill the live thread; the next one must start exactly `backoff` ms later, not a millisecond sooner. */
    const crashAndWait = async (backoff: number) => {
      const started = farm.threads.length;
      farm.alive()[0]!.exit(1);
      vi.advanceTimersByTime(backoff - 1);
      expect(farm.threads.length).toBe(started);
      const ready = nextEvent(events, 'worker-ready');
      vi.advanceTimersByTime(1);
      expect(farm.threads.length).toBe(started + 1);
      await ready;
    };
    for (const backoff of [100, 200, 350, 350]) await crashAndWait(backoff);
    const answer = runner.infer(rowsOf([1, 2, 3, 4]));
    await turns();
    farm.runningBatches()[0]!.thread.finish(); // a batch finished: the losses in a row are over
    expect(yOf(await answer)).toEqual([2, 4, 6, 8]);
    await crashAndWait(100);
    expect(delays).toEqual([100, 200, 350, 350, 100].map((ms) => `restarting worker doubler#0 in ${ms} ms`));
    expect(runner.workerStats()[0]!.restarts).toBe(5);
    vi.useRealTimers();
  });

  it('rejects the requests of a batch the session failed with InferenceFailedError, and takes the slot back', async () => {
    const { runner, farm } = await startRunner({ workers: { count: 1, maxInflightBatches: 1 } });
    const answer = runner.infer(rowsOf([1, 2, 3, 4]));
    await turns();
    farm.runningBatches()[0]!.thread.fail(undefined, 'shape mismatch in node 3');
    await expect(answer).rejects.toThrow(InferenceFailedError);
    await expect(answer).rejects.toThrow(/shape mismatch in node 3/);
    expect(runner.arenaStats()[0]!.slotsInUse).toBe(0);
    // The worker is still serving: the next request runs.
    const next = runner.infer(rowsOf([1, 1, 1, 1]));
    await turns();
    farm.runningBatches()[0]!.thread.finish();
    expect(yOf(await next)).toEqual([2, 2, 2, 2]);
  });

  it('declares a worker that stops beating hung, by the injected clock, and answers its batch on the other worker', async () => {
    const { runner, farm, clock, events } = await startRunner({
      workers: { count: 2, heartbeatIntervalMs: 10, missedHeartbeats: 2, restartBackoffInitialMs: 60_000 },
    });
    for (const thread of farm.alive()) thread.beat(clock.epoch);
    const answer = runner.infer(rowsOf([3, 3, 3, 3]));
    await turns();
    const [stuck] = farm.runningBatches();
    const other = farm.alive().find((t) => t !== stuck!.thread)!;
    // The stuck thread is idle as far as its status block says, and silent; the other keeps beating.
    const hung = nextEvent(events, 'worker-hung');
    clock.advance(25);
    other.beat(clock.epoch);
    const event = await hung;
    expect(event.message).toMatch(/no heartbeat for 25 ms/);
    expect(event.worker).toBe(stuck!.thread.init.workerId);
    await turns();
    const [retried] = farm.runningBatches();
    expect(retried!.thread).toBe(other);
    retried!.thread.finish();
    expect(yOf(await answer)).toEqual([6, 6, 6, 6]);
    expect(runner.workerStats().map((w) => w.state)).toContain('dead');
  });

  it('swaps between batches: the new version loads beside the old, queued requests keep their version, then the old one is released', async () => {
    const { runner, farm } = await startRunner({ workers: { count: 1, maxInflightBatches: 1 } });
    const onOld = runner.infer(rowsOf([1, 1, 1, 1]));
    await turns();
    const swapped = runner.swap({ version: 2, bytes: new Uint8Array([2]) });
    await turns();
    // The worker is reserved for the load and waits for its batch to finish first.
    expect(runner.version).toBe(1);
    farm.runningBatches()[0]!.thread.finish();
    expect((await onOld).modelVersion).toBe(1);
    const record = await swapped;
    expect(record).toMatchObject({ from: 1, to: 2, ok: true, error: null });
    expect(runner.version).toBe(2);

    const onNew = runner.infer(rowsOf([2, 2, 2, 2]));
    await turns();
    expect(farm.runningBatches()[0]!.run.version).toBe(2);
    farm.runningBatches()[0]!.thread.finish();
    expect((await onNew).modelVersion).toBe(2);
    expect(runner.versions().find((v) => v.version === 2)?.state).toBe('active');
    // Nothing of version 1 is left in flight, and one warm version (the active one) is kept: it is released.
    expect(runner.workerStats()[0]!.versions).toEqual([2]);
    expect(farm.alive()[0]!.received).toContain('release');
  });

  it('keeps the active version serving when a new version fails to load, and unloads it wherever it loaded', async () => {
    const farm = new FakeWorkerFarm();
    const { runner } = await startRunner({ workers: { count: 2 } }, farm);
    let loads = 0;
    farm.loadFailure = (version) => (version === 2 && ++loads === 2 ? 'the second worker cannot create it' : undefined);
    await expect(runner.swap({ version: 2, bytes: new Uint8Array([2]) })).rejects.toBeInstanceOf(ModelLoadError);
    expect(runner.version).toBe(1);
    expect(runner.workerStats().map((w) => w.versions)).toEqual([[1], [1]]);
    expect(farm.alive()[0]!.received).toContain('release');
    const answer = runner.infer(rowsOf([4, 4, 4, 4]));
    await turns();
    farm.runningBatches()[0]!.thread.finish();
    expect((await answer).modelVersion).toBe(1);
  });

  it('runs a request on the warm version it names, and refuses a version that is not loaded with VersionUnavailableError', async () => {
    const { runner, farm } = await startRunner({ workers: { count: 1 } });
    await runner.swap({ version: 2, bytes: new Uint8Array([2]) }, 2); // version 1 stays warm
    const onWarm = runner.infer(rowsOf([3, 3, 3, 3]), { version: 1 });
    const onActive = runner.infer(rowsOf([3, 3, 3, 3]));
    await turns();
    expect(
      farm
        .runningBatches()
        .map((b) => b.run.version)
        .sort(),
    ).toEqual([1, 2]);
    for (const batch of farm.runningBatches()) batch.thread.finish();
    expect((await onWarm).modelVersion).toBe(1);
    expect((await onActive).modelVersion).toBe(2);
    const refused = runner.infer(rowsOf([3, 3, 3, 3]), { version: 7 });
    await expect(refused).rejects.toBeInstanceOf(VersionUnavailableError);
    await expect(refused).rejects.toThrow('version 7 is not loaded (version 2 is active)');
    await expect(runner.infer(rowsOf([3, 3, 3, 3]), { version: 0 })).rejects.toBeInstanceOf(InvalidInputError);
  });

  it('keeps cumulative statistics per version: successes, failures, queue and compute time, and runs by batch size', async () => {
    const { runner, farm, clock } = await startRunner({ workers: { count: 1, maxInflightBatches: 1 } });
    const first = runner.infer(rowsOf([1, 1, 1, 1]));
    await turns();
    const queued = [runner.infer(rowsOf([2, 2, 2, 2])), runner.infer(rowsOf([3, 3, 3, 3], [4, 4, 4, 4]))];
    await turns();
    clock.advance(5); // the two wait 5 ms in the queue while the first runs
    farm.runningBatches()[0]!.thread.finish();
    await first;
    await turns();
    farm.runningBatches()[0]!.thread.fail(undefined, 'out of memory');
    await Promise.allSettled(queued);

    const [v1] = runner.statistics();
    expect(v1).toMatchObject({ version: 1, inferenceCount: 1, executionCount: 1 });
    expect(v1!.success).toEqual({ count: 1, ns: 5_000_000 });
    expect(v1!.fail.count).toBe(2);
    expect(v1!.failures).toEqual({ REJECTED: 0, CANCELED: 0, BACKEND: 2, OTHER: 0 });
    expect(v1!.queue.count).toBe(3);
    expect(v1!.queue.ns).toBe(2 * 5_000_000); // the first did not wait
    expect(v1!.computeInfer.count).toBe(1);
    expect(v1!.batches.map((b) => [b.batchSize, b.computeInfer.count])).toEqual([[1, 1]]);
    expect(v1!.lastInferenceMs).toBe(clock.epoch);
  });
});
