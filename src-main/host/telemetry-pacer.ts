/**
 * Telemetry for one dashboard, the same in both shells (the desktop window over IPC, a
 * browser over the WebSocket): a snapshot at most every tick, and never a second one
 * before the dashboard has taken the first. The dashboard says `ready()` when it starts
 * listening and again after taking each snapshot. Without that, a page slower than the
 * rate falls further behind with every snapshot and command replies queue behind them;
 * and a snapshot sent before a page listens would be lost.
 */
export class TelemetryPacer {
  /** Nothing goes until the dashboard says it is listening. */
  private inFlight = true;
  /** A tick came while a snapshot was in flight: the next one goes as soon as it is taken. */
  private due = true;
  private closed = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    hz: number,
    /** Returns false when nothing could be sent (the client is over its buffer bound): it stays due. */
    private readonly send: () => boolean | void,
  ) {
    this.timer = setInterval(() => this.tick(), 1000 / hz);
  }

  /** The dashboard can take a snapshot: it has started listening, or taken the last one. */
  ready(): void {
    this.inFlight = false;
    if (this.due) this.tick();
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
  }

  private tick(): void {
    if (this.closed) return;
    if (this.inFlight) {
      this.due = true;
      return;
    }
    this.due = false;
    this.inFlight = true;
    if (this.send() === false) {
      this.inFlight = false;
      this.due = true;
    }
  }
}
