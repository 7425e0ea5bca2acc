import { describe, expect, it } from 'vitest';
import { judgeWorker } from '../../src-main/engine/watchdog.js';

const limits = { heartbeatIntervalMs: 100, missedHeartbeats: 4, batchTimeoutMs: 1000, startupTimeoutMs: 5000 };
const now = 1_000_000;

describe('watchdog verdicts', () => {
  it('calls an idle worker healthy while it beats, degraded when a beat is late, hung after the missed beats', () => {
    expect(judgeWorker({ phase: 'idle', heartbeatAtMs: now - 100, blockedSinceMs: 0 }, limits, now)).toEqual({ kind: 'healthy' });
    expect(judgeWorker({ phase: 'idle', heartbeatAtMs: now - 151, blockedSinceMs: 0 }, limits, now)).toEqual({ kind: 'degraded' });
    expect(judgeWorker({ phase: 'idle', heartbeatAtMs: now - 400, blockedSinceMs: 0 }, limits, now)).toEqual({ kind: 'degraded' });
    expect(judgeWorker({ phase: 'idle', heartbeatAtMs: now - 401, blockedSinceMs: 0 }, limits, now)).toEqual({
      kind: 'hung',
      reason: 'no heartbeat for 401 ms',
    });
    // Before its first beat a thread is still starting: not judged by beats.
    expect(judgeWorker({ phase: 'idle', heartbeatAtMs: 0, blockedSinceMs: 0 }, limits, now).kind).not.toBe('hung');
  });

  it('does not hold missing beats against a thread blocked in a batch, but holds it to the batch limit', () => {
    const busy = (ms: number) => judgeWorker({ phase: 'busy', heartbeatAtMs: now - 10_000, blockedSinceMs: now - ms }, limits, now);
    expect(busy(400)).toEqual({ kind: 'healthy' });
    expect(busy(501)).toEqual({ kind: 'degraded' }); // past half its limit
    expect(busy(1001)).toEqual({ kind: 'hung', reason: 'batch running for 1001 ms (limit 1000 ms)' });
  });

  it('gives session creation the startup limit instead', () => {
    const loading = (ms: number) => judgeWorker({ phase: 'loading', heartbeatAtMs: now - 10_000, blockedSinceMs: now - ms }, limits, now);
    expect(loading(2000)).toEqual({ kind: 'healthy' });
    expect(loading(5001)).toEqual({ kind: 'hung', reason: 'session creation running for 5001 ms (limit 5000 ms)' });
  });
});
