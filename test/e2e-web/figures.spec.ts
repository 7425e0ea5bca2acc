/**
 * Every live figure the dashboard shows (rates, latencies and their percentiles, counters,
 * worker load) is the snapshot's, formatted: the test keeps each snapshot the server sent
 * the page over its WebSocket, reads a page's figures in one turn of the page (so React
 * cannot redraw halfway through), and requires one of the latest snapshots to give exactly
 * those figures, all of them together. Under synthetic load the rates and percentiles move
 * with every snapshot, so figures drawn from anything else would not match.
 */
import { expect, test, type Page } from '@playwright/test';
import { count, ms, percent } from '../../src-preload/format.js';
import type { DashboardSnapshot } from '../../src-preload/wire.js';
import { startServer, type RunningServer } from './server.js';

let server: RunningServer;
let frames: DashboardSnapshot[] = [];

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  server = await startServer(['--demo', 'synthetic', '--load', '4', '--load-rate', '400']);
});

test.afterAll(async () => {
  await server.stop();
});

async function open(page: Page): Promise<void> {
  frames = [];
  page.on('websocket', (ws) =>
    ws.on('framereceived', ({ payload }) => {
      const message = JSON.parse(String(payload)) as { type: string; snapshot?: DashboardSnapshot };
      if (message.type === 'snapshot') frames.push(message.snapshot!);
    }),
  );
  await page.goto(server.url);
  await expect(page.getByTestId('connection-status')).toHaveText('Connected');
  // Traffic has been answered: the figures compared below are live ones, not zeros.
  await expect.poll(() => frames.at(-1)?.engine.models[0]?.requestsPerSecond ?? 0, { timeout: 60_000 }).toBeGreaterThan(0);
}

type Figures = Record<string, string>;

/** The page's figures are one snapshot's, every one of them at once. */
async function figuresMatchASnapshot(page: Page, expected: (s: DashboardSnapshot) => Figures): Promise<void> {
  await expect(async () => {
    const ids = Object.keys(expected(frames.at(-1)!));
    const shown = await page.evaluate(
      (testIds) => Object.fromEntries(testIds.map((id) => [id, document.querySelector(`[data-testid="${id}"]`)?.textContent ?? null])),
      ids,
    );
    expect(frames.slice(-8).map(expected)).toContainEqual(shown);
  }).toPass({ timeout: 20_000 });
}

test('the overview shows the snapshot’s rates, mean batch and latency percentiles', async ({ page }) => {
  await open(page);
  await figuresMatchASnapshot(page, (s) => {
    const figures: Figures = {
      'throughput-total': count(s.engine.models.reduce((sum, m) => sum + m.requestsPerSecond, 0)),
      'loop-delay-p99': ms(s.engine.eventLoopDelayMs.p99Ms),
    };
    for (const m of s.engine.models) {
      figures[`throughput-${m.name}`] = count(m.requestsPerSecond);
      figures[`mean-batch-${m.name}`] = m.meanBatchRows.toFixed(1);
      figures[`latency-p50-${m.name}`] = ms(m.latencyMs.total.p50Ms);
      figures[`latency-p95-${m.name}`] = ms(m.latencyMs.total.p95Ms);
      figures[`latency-p99-${m.name}`] = ms(m.latencyMs.total.p99Ms);
      figures[`latency-queue-p99-${m.name}`] = ms(m.latencyMs.queue.p99Ms);
      figures[`latency-compute-p99-${m.name}`] = ms(m.latencyMs.compute.p99Ms);
    }
    return figures;
  });
});

test('the queues page shows the snapshot’s counters and wait percentiles', async ({ page }) => {
  await open(page);
  await page.getByTestId('nav-queues').click();
  await figuresMatchASnapshot(page, (s) => {
    const figures: Figures = {};
    for (const q of s.engine.queues) {
      figures[`queue-depth-${q.name}`] = count(q.depth);
      figures[`queue-high-water-${q.name}`] = count(q.highWater);
      figures[`queue-enqueued-${q.name}`] = count(q.enqueued);
      figures[`queue-rejected-${q.name}`] = `${count(q.rejected.full)} / ${count(q.rejected.rateLimited)} / ${count(q.rejected.invalid)}`;
      figures[`queue-timed-out-${q.name}`] = `${count(q.timedOut)} / ${count(q.aborted)}`;
      figures[`queue-wait-${q.name}`] = `${ms(q.waitMs.p50Ms)} / ${ms(q.waitMs.p99Ms)} ms`;
    }
    return figures;
  });
});

test('the workers page shows each worker’s batches, busy share, heartbeat age and restarts from the snapshot', async ({ page }) => {
  await open(page);
  await page.getByTestId('nav-workers').click();
  await figuresMatchASnapshot(page, (s) => {
    const figures: Figures = {};
    for (const w of s.engine.workers) {
      figures[`worker-batches-${w.id}`] = count(w.batches);
      figures[`worker-busy-${w.id}`] = percent(w.busyFraction);
      figures[`worker-heartbeat-${w.id}`] = w.heartbeatAgeMs === null ? '—' : `${ms(w.heartbeatAgeMs)} ms`;
      figures[`worker-restarts-${w.id}`] = String(w.restarts);
    }
    return figures;
  });
});
