import { expect, test, type Page } from '@playwright/test';
import { timeMajorCumSum } from '../fixtures/fidelity-models.js';
import { startServer, type RunningServer } from './server.js';

interface Snapshot {
  engine: {
    models: { name: string; version: number; batching: { maxBatchRows: number; maxQueueDelayUs: number } }[];
    queues: { name: string; depth: number; capacity: number; paused: boolean; highWater: number }[];
    workers: { id: string; state: string }[];
  };
  repository: { models: { name: string; activeVersion: number | null; versions: { version: number; validation: string }[] }[] };
  processes: { pid: number; type: string }[];
}

let server: RunningServer;

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  server = await startServer(['--demo', 'synthetic', '--load', '0']);
  // The server answers before the updater has validated the demo model and the engine
  // serves it (seconds on a loaded machine); every test here works on that model.
  await expect.poll(async () => (await snapshot()).engine.queues.length, { timeout: 30_000 }).toBeGreaterThan(0);
});

test.afterAll(async () => {
  await server.stop();
});

async function api(path: string, token = server.token): Promise<Response> {
  return fetch(`${server.origin}${path}`, { headers: { Authorization: `Bearer ${token}` } });
}

async function snapshot(): Promise<Snapshot> {
  return (await (await api('/api/snapshot')).json()) as Snapshot;
}

/**
 * The page shows each worker's state as /api/snapshot gives it. A state can change between
 * two reads (a heartbeat late on a loaded machine makes a worker degraded for a moment), so
 * page and API are compared again until they agree at the same moment, not against a
 * snapshot read earlier.
 */
async function workerStatesMatch(page: Page, testIdPrefix: string): Promise<void> {
  await expect(async () => {
    const workers = (await snapshot()).engine.workers;
    expect(workers.length).toBeGreaterThan(0);
    for (const w of workers) await expect(page.getByTestId(`${testIdPrefix}${w.id}`)).toHaveText(w.state, { timeout: 1000 });
  }).toPass({ timeout: 20_000 });
}

async function open(page: Page): Promise<void> {
  await page.goto(server.url);
  await expect(page.getByTestId('connection-status')).toHaveText('Connected');
  await expect(page.getByTestId('model-active-version-policy')).toHaveText('v1');
}

test('refuses a bad token on the API, the WebSocket and the page', async ({ page }) => {
  expect((await api('/api/snapshot', 'wrong')).status).toBe(401);
  expect((await fetch(`${server.origin}/api/snapshot`)).status).toBe(401);
  const badCommand = await fetch(`${server.origin}/api/commands`, {
    method: 'POST',
    body: '{}',
    headers: { Authorization: 'Bearer nope' },
  });
  expect(badCommand.status).toBe(401);
  await page.goto(`${server.origin}/?token=wrong`);
  await expect(page.getByTestId('connection-status')).toContainText('Disconnected');
  await expect(page.getByTestId('empty-state')).toBeVisible();
});

test('rejects malformed commands with a typed error', async () => {
  const post = (body: string) =>
    fetch(`${server.origin}/api/commands`, {
      method: 'POST',
      body,
      headers: { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json' },
    });
  const notJson = await post('{');
  expect(notJson.status).toBe(400);
  expect(await notJson.json()).toMatchObject({ error: { code: 'INVALID_JSON' } });
  const unknown = await post(JSON.stringify({ id: 1, command: 'rm -rf', args: {} }));
  expect(unknown.status).toBe(400);
  // An unknown command is named, with the ones there are.
  expect(await unknown.json()).toMatchObject({
    id: 1,
    ok: false,
    error: { code: 'INVALID_COMMAND', message: expect.stringMatching(/^unknown command "rm -rf"; known: .*workers\.resize/) as unknown },
  });
  const badArgs = await post(JSON.stringify({ id: 2, command: 'queue.configure', args: { model: 'policy', capacity: -1 } }));
  expect(await badArgs.json()).toMatchObject({ ok: false, error: { code: 'INVALID_COMMAND' } });
  expect((await snapshot()).engine.queues[0]!.capacity).toBe(4096);
});

test('shows the snapshot’s versions, worker states, queue settings, processes and verdicts (live figures: figures.spec.ts)', async ({
  page,
}) => {
  await open(page);
  const s = await snapshot();
  const model = s.engine.models[0]!;
  const queue = s.engine.queues[0]!;
  await expect(page.getByTestId(`model-active-version-${model.name}`)).toHaveText(`v${model.version}`);
  await workerStatesMatch(page, 'overview-worker-state-');
  await page.getByTestId('nav-queues').click();
  await expect(page.getByTestId(`queue-capacity-${queue.name}`)).toHaveText(queue.capacity.toLocaleString('en-US'));
  await expect(page.getByTestId(`queue-depth-${queue.name}`)).toHaveText(String(queue.depth));
  await expect(page.getByTestId(`queue-high-water-${queue.name}`)).toHaveText(String(queue.highWater));
  await expect(page.getByTestId(`batch-size-${model.name}`)).toHaveText(String(model.batching.maxBatchRows));
  await page.getByTestId('nav-workers').click();
  await workerStatesMatch(page, 'worker-state-');
  // Headless, the process table shows this process and the updater, each with its CPU share and memory.
  expect(s.processes.map((p) => p.type)).toEqual(['host', 'updater']);
  for (const p of s.processes) {
    const cells = page.getByTestId(`process-${p.type}`).locator('td');
    await expect(cells.nth(0)).toHaveText(String(p.pid));
    await expect(cells.nth(3)).toHaveText(/^\d+\.\d%$/);
    await expect(cells.nth(4)).toHaveText(/^\d+(\.\d)? MiB$/);
  }
  await page.getByTestId('nav-models').click();
  const repoModel = s.repository.models[0]!;
  await expect(page.getByTestId(`model-active-${repoModel.name}`)).toHaveText(`v${repoModel.activeVersion}`);
  for (const v of repoModel.versions)
    await expect(page.getByTestId(`version-state-${repoModel.name}-${v.version}`)).toHaveText(v.validation);
});

test('controls change the engine: pause and resume a queue, change the batch size', async ({ page }) => {
  await open(page);
  await page.getByTestId('nav-queues').click();
  await page.getByTestId('queue-pause-policy').click();
  await expect.poll(async () => (await snapshot()).engine.queues[0]!.paused).toBe(true);
  await expect(page.getByTestId('queue-resume-policy')).toBeVisible();
  await page.getByTestId('queue-resume-policy').click();
  await expect.poll(async () => (await snapshot()).engine.queues[0]!.paused).toBe(false);
  await page.getByTestId('batch-size-set-policy-input').fill('32');
  await page.getByTestId('batch-size-set-policy').click();
  await expect(page.getByTestId('batch-size-set-policy-result')).toHaveText('done');
  await expect.poll(async () => (await snapshot()).engine.models[0]!.batching.maxBatchRows).toBe(32);
  await expect(page.getByTestId('batch-size-policy')).toHaveText('32');
  // A value the engine refuses shows its error and changes nothing.
  await page.getByTestId('batch-size-set-policy-input').fill('5000');
  await page.getByTestId('batch-size-set-policy').click();
  await expect(page.getByTestId('batch-size-set-policy-result')).toContainText('INVALID_COMMAND');
  expect((await snapshot()).engine.models[0]!.batching.maxBatchRows).toBe(32);
});

test('a version published during the test appears, becomes active, and can be rolled back with confirmation', async ({ page }) => {
  await open(page);
  await page.getByTestId('nav-models').click();
  server.publishCopyOf('policy', 1, 2);
  await expect(page.getByTestId('version-state-policy-2')).toHaveText('valid');
  await expect(page.getByTestId('model-active-policy')).toHaveText('v2');
  // The default policy counts the active version in keepWarm (1): no spare is loaded.
  await expect(page.getByTestId('model-loaded-policy')).toHaveText('no older version kept loaded');
  await expect.poll(async () => (await snapshot()).engine.models[0]!.version).toBe(2);
  await page.getByTestId('model-activate-policy-1').click();
  await page.getByTestId('model-activate-policy-1-confirm').click();
  await expect(page.getByTestId('model-active-policy')).toHaveText('v1');
  await expect.poll(async () => (await snapshot()).engine.models[0]!.version).toBe(1);
  await expect(page.getByTestId('model-policy-policy')).toHaveText('pinned to v1 by the operator');
  await page.getByTestId('nav-events').click();
  await page.getByTestId('events-filter').fill('swapped');
  await expect(page.getByTestId('events-list')).toContainText('version 2 -> 1');
});

test('the Models page says whether each model is batched and why', async ({ page }) => {
  await open(page);
  await page.getByTestId('nav-models').click();
  await expect(page.getByTestId('batching-decision-policy')).toContainText('batched along dim 0');
  server.publish('timeline', 1, timeMajorCumSum().bytes);
  await expect(page.getByTestId('version-probe-timeline-1')).toHaveText('rows interact', { timeout: 30_000 });
  const decision = page.getByTestId('batching-decision-timeline');
  await expect(decision).toContainText('unbatched');
  await expect(decision).toContainText('rows interact along dim 0: output "y" row');
});

test('is keyboard navigable and switches themes', async ({ page }) => {
  await open(page);
  await page.getByTestId('nav-overview').focus();
  await page.keyboard.press('Tab');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('nav-queues')).toHaveAttribute('aria-current', 'page');
  const before = await page.evaluate(() => document.documentElement.dataset.theme);
  await page.getByTestId('theme-toggle').click();
  expect(await page.evaluate(() => document.documentElement.dataset.theme)).not.toBe(before);
});
