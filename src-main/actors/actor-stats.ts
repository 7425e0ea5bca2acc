/**
 * Counters the actor threads share with the engine's thread: steps, episodes, and a
 * ring of recent episode returns (Atomics for the counters; the ring is written by
 * one actor at a time under a ticket from an atomic counter).
 */
const STEPS = 0;
const EPISODES = 1;
const RING = 256;

export interface ActorStatsDescriptor {
  readonly sab: SharedArrayBuffer;
}

export class ActorStats {
  private readonly counters: Int32Array;
  private readonly returns: Float64Array;

  private constructor(readonly descriptor: ActorStatsDescriptor) {
    this.counters = new Int32Array(descriptor.sab, 0, 2);
    this.returns = new Float64Array(descriptor.sab, 8, RING);
  }

  static create(): ActorStats {
    return new ActorStats({ sab: new SharedArrayBuffer(8 + RING * 8) });
  }

  static attach(descriptor: ActorStatsDescriptor): ActorStats {
    return new ActorStats(descriptor);
  }

  addSteps(n: number): void {
    Atomics.add(this.counters, STEPS, n);
  }

  episode(episodeReturn: number): void {
    const ticket = Atomics.add(this.counters, EPISODES, 1);
    this.returns[ticket % RING] = episodeReturn;
  }

  get steps(): number {
    return Atomics.load(this.counters, STEPS);
  }

  get episodes(): number {
    return Atomics.load(this.counters, EPISODES);
  }

  /** The latest episode returns, oldest first (up to 256). */
  recentReturns(): number[] {
    const episodes = this.episodes;
    const n = Math.min(episodes, RING);
    return Array.from({ length: n }, (_, i) => this.returns[(episodes - n + i) % RING]!);
  }
}
