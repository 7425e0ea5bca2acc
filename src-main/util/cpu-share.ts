/**
 * A process's CPU use as a percentage of one core (as `top` and Electron's
 * percentCPUUsage give it: 150 means one and a half cores), from readings of its
 * cumulative CPU time. One reading is not a rate: the share is taken between readings at
 * least `minIntervalMs` apart, so that a dashboard asking four times a second sees a
 * steady figure rather than the noise of 250 ms windows.
 */
export class CpuShare {
  private base: { cpuMs: number; atMs: number } | undefined;
  private latest: number | null = null;

  constructor(private readonly minIntervalMs = 1000) {}

  /** Feed a reading of cumulative CPU time; returns the latest share, or null before there is one. */
  update(cpuMs: number, atMs: number): number | null {
    // A cumulative time that goes back belongs to a new process (a restart): start over.
    if (!this.base || cpuMs < this.base.cpuMs || atMs < this.base.atMs) {
      this.base = { cpuMs, atMs };
      this.latest = null;
      return null;
    }
    const elapsedMs = atMs - this.base.atMs;
    if (elapsedMs >= this.minIntervalMs) {
      this.latest = (100 * (cpuMs - this.base.cpuMs)) / elapsedMs;
      this.base = { cpuMs, atMs };
    }
    return this.latest;
  }

  /** The latest share, or null before there is one. */
  get share(): number | null {
    return this.latest;
  }

  /** Forget the readings (the process is gone). */
  reset(): void {
    this.base = undefined;
    this.latest = null;
  }
}

/** This process's CPU time so far, all threads, in milliseconds. */
export function processCpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}
