/**
 * Telemetry for one dashboard, the same in both shells (the desktop window over IPC, a
 * browser over the WebSocket): a snapshot at most every tick, and never a second one
 * before the dashboard has taken the first. The dashboard says `ready()` when it starts
 * listening and again after taking each snapshot. Without that, a page slower than the
 * rate falls further behind with every snapshot and command replies queue behind them;
 * and a snapshot sent before a page listens would be lost.
 */
/** Snapshots a second that a dashboard may ask for: faster costs the host more than a chart can show. */
export const TELEMETRY_HZ = { min: 1, max: 30, fallback: 4 } as const;

/** The rate a dashboard asked for (`?hz=`), held to TELEMETRY_HZ; the server's default when it asked none or nonsense. */
export function telemetryRate(asked: string | null, serverDefault: number = TELEMETRY_HZ.fallback): number {
  const rate = Number(asked ?? serverDefault);
  if (!Number.isFinite(rate) || rate <= 0) return serverDefault;
  return Math.min(TELEMETRY_HZ.max, Math.max(TELEMETRY_HZ.min, rate));
}

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
