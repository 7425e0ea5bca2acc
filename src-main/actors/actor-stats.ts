/**
 * Counters the actor threads share with the engine's thread: steps, episodes, and a
 * ring of recent episode returns (Atomics for the counters; the ring is written by
 * one actor at a time under a ticket from an atomic counter).
 */
const STEPS = 0;
const EPISODES = 1;
const INSERT_WAITS = 2; // rounds that waited for the table's rate limiter
const INSERT_WAIT_MS = 3; // milliseconds spent waiting, in total
const INSERT_TIMEOUTS = 4; // waits that timed out (the actor waits again; nothing is written meanwhile)
const COUNTERS = 6; // keeps the returns ring 8-byte aligned
const RING = 256;
// The ring holds pairs: the episode's return, and the policy version that chose its first action.

export interface ActorStatsDescriptor {
  readonly sab: SharedArrayBuffer;
}

export class ActorStats {
  private readonly counters: Int32Array;
  private readonly returns: Float64Array;

  private constructor(readonly descriptor: ActorStatsDescriptor) {
    this.counters = new Int32Array(descriptor.sab, 0, COUNTERS);
    this.returns = new Float64Array(descriptor.sab, COUNTERS * 4, RING * 2);
  }

  static create(): ActorStats {
    return new ActorStats({ sab: new SharedArrayBuffer(COUNTERS * 4 + RING * 16) });
  }

  static attach(descriptor: ActorStatsDescriptor): ActorStats {
    return new ActorStats(descriptor);
  }

  addSteps(n: number): void {
    Atomics.add(this.counters, STEPS, n);
  }

  /** A finished episode, with the policy version it started under. */
  episode(episodeReturn: number, startVersion: number): void {
    const ticket = Atomics.add(this.counters, EPISODES, 1);
    this.returns[(ticket % RING) * 2] = episodeReturn;
    this.returns[(ticket % RING) * 2 + 1] = startVersion;
  }

  /** One wait for the insert permit: milliseconds waited, or -1 for a timeout. */
  insertWait(waitedMs: number): void {
    if (waitedMs < 0) Atomics.add(this.counters, INSERT_TIMEOUTS, 1);
    else {
      Atomics.add(this.counters, INSERT_WAITS, 1);
      Atomics.add(this.counters, INSERT_WAIT_MS, Math.round(waitedMs));
    }
  }

  insertWaits(): { waits: number; totalMs: number; timeouts: number } {
    return {
      waits: Atomics.load(this.counters, INSERT_WAITS),
      totalMs: Atomics.load(this.counters, INSERT_WAIT_MS),
      timeouts: Atomics.load(this.counters, INSERT_TIMEOUTS),
    };
  }

  get steps(): number {
    return Atomics.load(this.counters, STEPS);
  }

  get episodes(): number {
    return Atomics.load(this.counters, EPISODES);
  }

  /** The latest episodes, oldest first (up to 256): return, and the policy version each started under. */
  recentEpisodes(): { return: number; version: number }[] {
    const episodes = this.episodes;
    const n = Math.min(episodes, RING);
    return Array.from({ length: n }, (_, i) => {
      const at = ((episodes - n + i) % RING) * 2;
      return { return: this.returns[at]!, version: this.returns[at + 1]! };
    });
  }
}
