/**
 * How the pool reaches an inference thread: start one, post it messages, hear what it
 * says, and end it. The pool sees only this interface, so unit tests drive the pool and
 * the runner with scripted threads (test/unit/fake-worker-thread.ts) and no onnxruntime.
 */
import { spawnModuleWorker } from '../util/spawn.js';
import type { FromWorker, ToWorker, WorkerInit } from './worker/protocol.js';

/** What a thread reports; called on the engine's thread. */
export interface WorkerThreadListener {
  message(message: FromWorker): void;
  error(error: Error): void;
  exit(code: number): void;
}

export interface WorkerThread {
  readonly threadId: number;
  /** `transfer`: buffers moved to the thread, not copied. */
  post(message: ToWorker, transfer?: ArrayBuffer[]): void;
  /** Settles when the thread has exited, however it ended. */
  readonly exited: Promise<void>;
  terminate(): Promise<void>;
}

/** Starts one inference thread with its status block; `listener` hears it from then on. */
export type WorkerTransport = (init: WorkerInit, listener: WorkerThreadListener) => WorkerThread;

/** The real transport: a Node worker thread running inference-worker.ts with one ORT session per version. */
export const threadTransport: WorkerTransport = (init, listener) => {
  const worker = spawnModuleWorker(
    { callerUrl: import.meta.url, source: './worker/inference-worker.ts', built: 'inference-worker.js' },
    { workerData: init, name: init.workerId },
  );
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  worker.on('message', (message: FromWorker) => listener.message(message));
  worker.on('error', (error) => listener.error(error));
  worker.on('exit', (code) => listener.exit(code));
  return {
    threadId: worker.threadId,
    exited,
    post: (message, transfer) => worker.postMessage(message, transfer),
    terminate: async () => {
      await worker.terminate();
    },
  };
};
