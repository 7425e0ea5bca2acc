import { describe, expect, it } from 'vitest';
import { RateLimitedError } from '../../src-main/engine/errors.js';
import { EnqueueRateLimiter } from '../../src-main/engine/rate-limit.js';

function clock() {
  let now = 0;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('EnqueueRateLimiter', () => {
  it('allows a burst, then refuses with a retry-after hint that matches the refill rate', () => {
    const c = clock();
    const limiter = new EnqueueRateLimiter('q', { perQueue: { ratePerSecond: 10, burst: 3 }, maxClients: 10 }, c.now);
    for (let i = 0; i < 3; i++) limiter.admit(undefined);
    try {
      limiter.admit(undefined);
      expect.unreachable('the fourth request must be refused');
    } catch (error) {
      expect(error).toBeInstanceOf(RateLimitedError);
      expect((error as RateLimitedError).scope).toBe('queue');
      expect((error as RateLimitedError).retryAfterMs).toBeCloseTo(100, 5);
    }
    c.advance(100);
    limiter.admit(undefined);
    expect(limiter.rejected).toBe(1);
  });

  it('limits each client separately and takes no queue token from a refused client', () => {
    const c = clock();
    const limiter = new EnqueueRateLimiter(
      'q',
      { perQueue: { ratePerSecond: 1, burst: 3 }, perClient: { ratePerSecond: 1, burst: 1 }, maxClients: 10 },
      c.now,
    );
    limiter.admit('a');
    expect(() => limiter.admit('a')).toThrow(RateLimitedError);
    // 'a' was refused without spending a queue token: two remain, for b and c.
    limiter.admit('b');
    limiter.admit('c');
    expect(() => limiter.admit('d')).toThrow(/queue "q"/);
  });

  it('forgets the least recently used client beyond maxClients', () => {
    const c = clock();
    const limiter = new EnqueueRateLimiter('q', { perClient: { ratePerSecond: 1, burst: 1 }, maxClients: 2 }, c.now);
    limiter.admit('a');
    limiter.admit('b');
    limiter.admit('c'); // evicts 'a'
    expect(limiter.trackedClients).toBe(2);
    expect(() => limiter.admit('b')).toThrow(RateLimitedError);
    limiter.admit('a'); // a fresh bucket
  });

  it('is disabled without buckets', () => {
    expect(new EnqueueRateLimiter('q', { maxClients: 1 }).enabled).toBe(false);
  });
});
