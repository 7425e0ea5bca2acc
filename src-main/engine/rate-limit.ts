/**
 * Token buckets on enqueue: one per queue and one per client id. A request over either
 * limit is refused with the time until a token is due, and takes no token from the other.
 */
import type { RateLimitConfig, TokenBucketConfig } from './config.js';
import { RateLimitedError } from './errors.js';

export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly config: TokenBucketConfig,
    private readonly now: () => number,
  ) {
    this.tokens = config.burst;
    this.updatedAt = now();
  }

  private refill(): void {
    const now = this.now();
    this.tokens = Math.min(this.config.burst, this.tokens + ((now - this.updatedAt) / 1000) * this.config.ratePerSecond);
    this.updatedAt = now;
  }

  /** Milliseconds until one token is available; 0 means one is available now. */
  waitMs(): number {
    this.refill();
    return this.tokens >= 1 ? 0 : ((1 - this.tokens) / this.config.ratePerSecond) * 1000;
  }

  take(): void {
    this.tokens -= 1;
  }

  get full(): boolean {
    this.refill();
    return this.tokens >= this.config.burst;
  }
}

export class EnqueueRateLimiter {
  private readonly queueBucket: TokenBucket | undefined;
  // Map iteration order is insertion order: re-inserting on use makes the first key the least recently used.
  private readonly clientBuckets = new Map<string, TokenBucket>();
  rejected = 0;

  constructor(
    private readonly queueName: string,
    private readonly config: RateLimitConfig,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.queueBucket = config.perQueue ? new TokenBucket(config.perQueue, now) : undefined;
  }

  get enabled(): boolean {
    return this.queueBucket !== undefined || this.config.perClient !== undefined;
  }

  /** Take a token from each applicable bucket, or throw RateLimitedError and take none. */
  admit(clientId: string | undefined): void {
    const clientBucket = clientId !== undefined && this.config.perClient ? this.clientBucket(clientId) : undefined;
    const queueWait = this.queueBucket?.waitMs() ?? 0;
    if (queueWait > 0) {
      this.rejected++;
      throw new RateLimitedError('queue', this.queueName, queueWait);
    }
    const clientWait = clientBucket?.waitMs() ?? 0;
    if (clientWait > 0) {
      this.rejected++;
      throw new RateLimitedError('client', clientId!, clientWait);
    }
    this.queueBucket?.take();
    clientBucket?.take();
  }

  get trackedClients(): number {
    return this.clientBuckets.size;
  }

  private clientBucket(clientId: string): TokenBucket {
    let bucket = this.clientBuckets.get(clientId);
    if (bucket) {
      this.clientBuckets.delete(clientId);
    } else {
      bucket = new TokenBucket(this.config.perClient!, this.now);
      if (this.clientBuckets.size >= this.config.maxClients) {
        const oldest = this.clientBuckets.keys().next().value as string;
        this.clientBuckets.delete(oldest);
      }
    }
    this.clientBuckets.set(clientId, bucket);
    return bucket;
  }
}
