/**
 * One pending "look at the queue again" for the batcher: the earliest wins, and a later
 * request for it changes nothing. Timers have millisecond resolution; below a
 * millisecond the check runs on the next turn of the event loop.
 */
export class FlushTimer {
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private at = Infinity;

  constructor(private readonly fire: () => void) {}

  schedule(afterUs: number): void {
    const at = performance.now() + afterUs / 1000;
    if (at >= this.at) return;
    this.cancel();
    this.at = at;
    const run = () => {
      this.timer = undefined;
      this.immediate = undefined;
      this.at = Infinity;
      this.fire();
    };
    if (afterUs >= 1000) this.timer = setTimeout(run, Math.floor(afterUs / 1000));
    else this.immediate = setImmediate(run);
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    this.at = Infinity;
  }
}
