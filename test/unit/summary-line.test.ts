import { describe, expect, it } from 'vitest';
import type { EngineSnapshot } from '../../src-main/engine/index.js';
import { summaryLine } from '../../src-main/server/summary-line.js';
import { bytes } from '../../src-preload/format.js';

const latency = (p50: number, p99: number) => ({ count: 10, meanMs: p50, p50Ms: p50, p95Ms: p99, p99Ms: p99, maxMs: p99 });

function snapshot(): EngineSnapshot {
  return {
    timeMs: Date.UTC(2026, 0, 1, 12, 30, 5),
    uptimeMs: 1000,
    state: 'running',
    windowSeconds: 10,
    eventLoopDelayMs: { meanMs: 0.5, p50Ms: 0.4, p99Ms: 2.25, maxMs: 3 },
    models: [
      {
        name: 'policy',
        version: 3,
        sha256: 'x',
        sizeBytes: 1,
        loadedAtMs: 0,
        signature: { inputs: [], outputs: [] },
        versions: [],
        swaps: [],
        batching: {
          mode: 'dynamic',
          maxBatchRows: 128,
          maxQueueDelayUs: 500,
          preferredBatchSizes: [],
          decision: { batched: true, mode: 'dim0', reason: 'batched along dim 0', evidence: null },
        },
        requests: { accepted: 100, succeeded: 90, failed: 2, timedOut: 3, aborted: 0, retried: 1, queued: 5, running: 0 },
        requestsPerSecond: 12345.6,
        rowsPerSecond: 24691.2,
        batches: 10,
        batchesPerSecond: 1,
        batchSizeBuckets: [],
        meanBatchRows: 9.5,
        latencyMs: { queue: latency(0.1, 0.5), compute: latency(0.3, 0.8), total: latency(0.45, 12.345) },
        lifetimeLatencyMs: { queue: latency(0, 0), compute: latency(0, 0), total: latency(0, 0) },
      },
    ],
    queues: [
      {
        name: 'policy',
        model: 'policy',
        depth: 5,
        rows: 5,
        capacity: 4096,
        highWater: 9,
        paused: true,
        draining: false,
        waitingForRoom: 0,
        policy: { fullPolicy: 'reject', fullWaitTimeoutMs: 1000, maxWaiters: 1024, queueTimeoutMs: 0 },
        rateLimit: { perQueue: null, perClient: null, trackedClients: 0 },
        enqueued: 100,
        dequeued: 95,
        rejected: { full: 4, rateLimited: 1, invalid: 0, draining: 0, shuttingDown: 0 },
        timedOut: 0,
        aborted: 0,
        enqueuePerSecond: 1,
        waitMs: latency(0.1, 0.5),
      },
    ],
    workers: [
      {
        id: 'policy#0',
        model: 'policy',
        state: 'ready',
        threadId: 1,
        incarnation: 1,
        restarts: 0,
        inflightBatches: 0,
        batches: 5,
        rows: 5,
        busyMs: 1,
        busyFraction: 0.5,
        heartbeatAgeMs: 10,
        uptimeMs: 1,
        versions: [3],
        loading: false,
        lastError: null,
      },
      {
        id: 'policy#1',
        model: 'policy',
        state: 'dead',
        threadId: null,
        incarnation: 2,
        restarts: 1,
        inflightBatches: 0,
        batches: 5,
        rows: 5,
        busyMs: 1,
        busyFraction: 0,
        heartbeatAgeMs: null,
        uptimeMs: 1,
        versions: [],
        loading: false,
        lastError: 'exit 70',
      },
    ],
    arenas: [],
    arenaTotals: { capacityBytes: 147456, usedBytes: 2048, highWaterBytes: 4096 },
    recentEvents: [],
  };
}

describe('summaryLine', () => {
  it('shows the figures an operator checks first, from the snapshot as it is', () => {
    const line = summaryLine(snapshot());
    expect(line).toBe(
      '12:30:05 | policy v3 | 12,346 req/s 24,691 rows/s | batch 9.5 | p50 0.45 p99 12.3 ms (queue 0.50 compute 0.80) | ' +
        'queue 5/4,096 paused | workers 1/2 ready (policy#1 dead) | refused/failed 10 | arena 2 KiB/144 KiB | loop p99 2.25 ms',
    );
  });

  it('formats byte counts with binary units', () => {
    expect(bytes(512)).toBe('512 B');
    expect(bytes(3 * 1024 * 1024)).toBe('3.0 MiB');
    expect(bytes(5 * 1024 ** 3)).toBe('5.0 GiB');
  });
});
