/**
 * The two clocks the engine reads, injected so that unit tests drive time without
 * sleeping: a monotonic one for intervals, deadlines and statistics windows, and the
 * wall clock that worker threads stamp their heartbeats with.
 */
export interface EngineClock {
  monotonicMs(): number;
  epochMs(): number;
}

export const systemClock: EngineClock = {
  monotonicMs: () => performance.now(),
  epochMs: () => Date.now(),
};
