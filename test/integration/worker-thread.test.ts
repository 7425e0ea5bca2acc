/**
 * The real inference thread, reached through the transport the pool uses: what it does
 * with a message it cannot carry out.
 */
import { describe, expect, it } from 'vitest';
import { threadTransport, type WorkerThreadListener } from '../../src-main/engine/worker-transport.js';
import { STATUS_FIELDS, type FromWorker } from '../../src-main/engine/worker/protocol.js';
import { planServing, signatureFromMetadata } from '../../src-main/engine/signature.js';
import { smallMlp } from '../fixtures/models.js';

function startThread() {
  const messages: FromWorker[] = [];
  const errors: Error[] = [];
  let exitCode: number | undefined;
  let wake: () => void = () => {};
  const changed = () => wake();
  const listener: WorkerThreadListener = {
    message: (message) => (messages.push(message), changed()),
    error: (error) => (errors.push(error), changed()),
    exit: (code) => ((exitCode = code), changed()),
  };
  const thread = threadTransport(
    { workerId: 'w-test', status: new SharedArrayBuffer(STATUS_FIELDS * 8), heartbeatIntervalMs: 50 },
    listener,
  );
  /** Resolves once `predicate` holds, checked on every message, error and exit (the test's own timeout bounds it). */
  const until = (predicate: () => boolean) =>
    new Promise<void>((resolve) => {
      wake = () => predicate() && resolve();
      wake();
    });
  return { thread, messages, errors, until, exitCode: () => exitCode };
}

describe('inference thread', () => {
  it('ends with the reason when a message breaks its invariants, rather than skipping every later message', async () => {
    const { thread, messages, errors, until, exitCode } = startThread();
    try {
      thread.post({ type: 'load', version: 1, model: smallMlp(), intraOpThreads: 1 });
      await until(() => messages.some((m) => m.type === 'loaded'));
      const loaded = messages.find((m) => m.type === 'loaded')!;
      if (loaded.type !== 'loaded') throw new Error('unreachable');
      const plan = planServing(signatureFromMetadata(loaded.inputs, loaded.outputs), 8, { mode: 'dim0' });
      expect(plan.mode).toBe('dynamic');

      // A row plan needs its arena; attaching one without it is a bug in the engine, not bad input.
      thread.post({ type: 'attach', version: 1, plan });
      thread.post({ type: 'run', batchId: 7, version: 1, slot: 0, rows: 1 });
      await until(() => exitCode() !== undefined);

      expect(errors.map((e) => e.message)).toEqual(['version 1: a row plan is attached with its arena']);
      expect(exitCode()).not.toBe(0);
      // The run queued behind the broken attach was never carried out half-way.
      expect(messages.filter((m) => m.type === 'done' || m.type === 'run-failed')).toEqual([]);
    } finally {
      await thread.terminate();
    }
  });

  it('keeps serving after a run that fails on its own, reporting the failure for that batch', async () => {
    const { thread, messages, errors, until } = startThread();
    try {
      thread.post({ type: 'run', batchId: 1, version: 9, slot: 0, rows: 1 });
      thread.post({ type: 'load', version: 1, model: smallMlp(), intraOpThreads: 1 });
      await until(() => messages.some((m) => m.type === 'loaded'));
      expect(messages[0]).toEqual({ type: 'run-failed', batchId: 1, message: 'model version 9 is not loaded in this worker' });
      expect(errors).toEqual([]);
    } finally {
      await thread.terminate();
    }
  });
});
