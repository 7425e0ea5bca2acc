/** Callers waiting until a model has nothing queued or running (drain, stop). */
export class IdleSignal {
  private waiters: (() => void)[] = [];

  constructor(private readonly isIdle: () => boolean) {}

  wait(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Something settled: wake the waiters if nothing is left. */
  check(): void {
    if (this.waiters.length > 0 && this.isIdle()) this.releaseAll();
  }

  releaseAll(): void {
    for (const resolve of this.waiters.splice(0)) resolve();
  }
}
