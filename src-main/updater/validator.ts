/**
 * Runs validations in a worker thread of the updater process, one at a time, with a
 * time limit. A validation that overruns or kills its thread yields an "invalid"
 * verdict with the reason, and a fresh thread serves the next one.
 */
import type { Worker } from 'node:worker_threads';
import { spawnModuleWorker } from '../util/spawn.js';
import type { ValidationRequest, Verdict } from './validate-model.js';

export class Validator {
  private worker: Worker | undefined;

  constructor(private readonly timeoutMs: number) {}

  run(request: ValidationRequest): Promise<Verdict> {
    const worker = this.thread();
    return new Promise<Verdict>((resolve) => {
      const done = (verdict: Verdict) => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('exit', onExit);
        resolve(verdict);
      };
      const onMessage = (verdict: Verdict) => done(verdict);
      const onExit = (code: number) => {
        this.worker = undefined;
        done({ ok: false, reason: `validation thread exited with code ${code}`, sha256: null, sizeBytes: 0 });
      };
      const timer = setTimeout(() => {
        this.worker = undefined;
        worker.off('exit', onExit);
        void worker.terminate();
        done({ ok: false, reason: `validation did not finish within ${this.timeoutMs} ms`, sha256: null, sizeBytes: 0 });
      }, this.timeoutMs);
      worker.on('message', onMessage);
      worker.on('exit', onExit);
      worker.postMessage(request);
    });
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await worker.terminate();
  }

  private thread(): Worker {
    this.worker ??= spawnModuleWorker(
      { callerUrl: import.meta.url, source: './validation-worker.ts', built: 'validation-worker.js' },
      { name: 'validator' },
    );
    return this.worker;
  }
}
