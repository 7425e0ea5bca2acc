/**
 * Questions put to a worker thread and waiting for its answer, one per key (a model
 * version): a load, a probe. A thread that dies fails them all at once.
 */
import type { EngineError } from './errors.js';

interface Pending<T> {
  resolve: (reply: T) => void;
  reject: (error: EngineError) => void;
}

export class PendingReplies<T> {
  private readonly pending = new Map<number, Pending<T>>();

  get size(): number {
    return this.pending.size;
  }

  /** Send the question (a throw, such as WorkerCrashedError for no thread, rejects it) and wait for `settle` of the same key. */
  ask(key: number, send: () => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      // Waiting before sending: a transport may answer before `send` returns.
      this.pending.set(key, { resolve, reject });
      try {
        send();
      } catch (error) {
        this.pending.delete(key);
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  }

  /** Settle the question under `key`; false if none was waiting. */
  settle(key: number, outcome: { reply: T } | { error: EngineError }): boolean {
    const pending = this.pending.get(key);
    if (!pending) return false;
    this.pending.delete(key);
    if ('reply' in outcome) pending.resolve(outcome.reply);
    else pending.reject(outcome.error);
    return true;
  }

  failAll(error: EngineError): void {
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
  }
}
