/**
 * The watchdog's judgement of one worker, from what its thread last wrote into its shared
 * status block: pure, so every verdict is tested without threads or a clock. The pool
 * acts on it (restarts a hung worker, marks a late one degraded).
 */
export interface WorkerReading {
  /** What the thread says it is doing. */
  readonly phase: 'idle' | 'busy' | 'loading';
  /** Wall-clock time of its last heartbeat (0: none yet). */
  readonly heartbeatAtMs: number;
  /** When the batch or session creation it is blocked in began. */
  readonly blockedSinceMs: number;
}

export interface WatchdogLimits {
  readonly heartbeatIntervalMs: number;
  readonly missedHeartbeats: number;
  readonly batchTimeoutMs: number;
  readonly startupTimeoutMs: number;
}

export type Verdict = { readonly kind: 'hung'; readonly reason: string } | { readonly kind: 'degraded' } | { readonly kind: 'healthy' };

export function judgeWorker(reading: WorkerReading, limits: WatchdogLimits, nowMs: number): Verdict {
  const blocked = reading.phase !== 'idle';
  const limit = reading.phase === 'loading' ? limits.startupTimeoutMs : limits.batchTimeoutMs;
  const heartbeatAge = nowMs - reading.heartbeatAtMs;
  const blockedFor = blocked ? nowMs - reading.blockedSinceMs : 0;
  if (blocked && blockedFor > limit) {
    const what = reading.phase === 'loading' ? 'session creation' : 'batch';
    return { kind: 'hung', reason: `${what} running for ${blockedFor} ms (limit ${limit} ms)` };
  }
  // A blocked thread cannot beat: only an idle one is judged by its heartbeats.
  if (!blocked && reading.heartbeatAtMs > 0 && heartbeatAge > limits.heartbeatIntervalMs * limits.missedHeartbeats)
    return { kind: 'hung', reason: `no heartbeat for ${heartbeatAge} ms` };
  const late = (!blocked && heartbeatAge > limits.heartbeatIntervalMs * 1.5) || blockedFor > limit / 2;
  return late ? { kind: 'degraded' } : { kind: 'healthy' };
}
