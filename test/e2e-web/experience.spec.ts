/** The product's default run (the CartPole actor-learner loop) and its Experience page, in Chromium. */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { startServer, type RunningServer } from './server.js';

interface Snapshot {
  engine: { queues: { name: string; paused: boolean }[] };
  experience: {
    size: number;
    capacity: number;
    inserted: number;
    settings: { sampler: string; batchSize: number };
    checkpoint: { last: { items: number } | null };
  };
  loop: { actors: { steps: number } | null; learner: { generations: unknown[] } };
}

let server: RunningServer;
let repository: string;

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  repository = mkdtempSync(join(tmpdir(), 'switchboard-e2e-repo-'));
  server = await startServer(['--repository', repository, '--demo', 'cartpole']);
});

test.afterAll(async () => {
  await server.stop();
  rmSync(repository, { recursive: true, force: true });
});

async function snapshot(): Promise<Snapshot> {
  const response = await fetch(`${server.origin}/api/snapshot`, { headers: { Authorization: `Bearer ${server.token}` } });
  return (await response.json()) as Snapshot;
}

async function command(name: string, args: object): Promise<{ ok: boolean }> {
  const response = await fetch(`${server.origin}/api/commands`, {
    method: 'POST',
    body: JSON.stringify({ id: 1, command: name, args }),
    headers: { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json' },
  });
  return (await response.json()) as { ok: boolean };
}

async function openExperience(page: Page): Promise<void> {
  await page.goto(server.url);
  await expect(page.getByTestId('connection-status')).toHaveText('Connected');
  await page.getByTestId('nav-experience').click();
}

test('the default run fills the buffer from the actors while the learner publishes versions', async ({ page }) => {
  await openExperience(page);
  await expect.poll(async () => (await snapshot()).experience.size, { timeout: 60_000 }).toBeGreaterThan(5000);
  await expect.poll(async () => (await snapshot()).loop.learner.generations.length, { timeout: 60_000 }).toBeGreaterThan(1);
  const s = await snapshot();
  await expect(page.getByTestId('experience-size')).toContainText(`/ ${s.experience.capacity.toLocaleString('en-US')}`);
  await expect(page.getByTestId('experience-actors')).toHaveText('2 threads × 16 CartPole envs');
  await expect(page.getByTestId('experience-learner')).toContainText('versions published');
  await expect(page.getByTestId('experience-critic')).not.toHaveText(/^0 batches/);
  // The charts and distributions have data to draw.
  for (const id of [
    'experience-rates-chart',
    'experience-returns-chart',
    'experience-learner-chart',
    'experience-priorities',
    'experience-policy-lag',
  ])
    await expect(page.getByTestId(id).locator('svg.recharts-surface').first()).toBeVisible();
  await page.getByTestId('nav-memory').click();
  await expect(page.getByTestId('memory-experience')).toContainText('200,000 items');
});

test('checkpoint now writes one into the repository, and the page says so', async ({ page }) => {
  await openExperience(page);
  await expect(page.getByTestId('experience-checkpoint-dir')).toHaveText(join(repository, '.experience'));
  await page.getByTestId('experience-checkpoint').click();
  await expect(page.getByTestId('experience-checkpoint-result')).toHaveText('done');
  await expect(page.getByTestId('experience-checkpoint-last')).toContainText('items');
  expect(existsSync(join(repository, '.experience', 'latest.ckpt'))).toBe(true);
  expect((await snapshot()).experience.checkpoint.last!.items).toBeGreaterThan(0);
});

test('sampler settings apply; a value the engine refuses shows its error and changes nothing', async ({ page }) => {
  await openExperience(page);
  await page.getByTestId('experience-sampler-kind').selectOption('uniform');
  await page.getByTestId('experience-sampler-batchSize').fill('64');
  await page.getByTestId('experience-sampler-apply').click();
  await expect(page.getByTestId('experience-sampler-apply-result')).toHaveText('done');
  await expect(page.getByTestId('experience-sampler-current')).toContainText('uniform, batches of 64');
  expect((await snapshot()).experience.settings).toMatchObject({ sampler: 'uniform', batchSize: 64 });
  await page.getByTestId('experience-sampler-minSize').fill('300000');
  await page.getByTestId('experience-sampler-apply').click();
  await expect(page.getByTestId('experience-sampler-apply-result')).toContainText('INVALID_SETTINGS');
  expect((await snapshot()).experience.settings).toMatchObject({ sampler: 'uniform', batchSize: 64 });
});

test('exports .npz into the export folder from the page, and as a download over the API', async ({ page }) => {
  await openExperience(page);
  await page.getByTestId('experience-export-kind').selectOption('newest');
  await page.getByTestId('experience-export-items').fill('500');
  await page.getByTestId('experience-export').click();
  await expect(page.getByTestId('experience-export-result')).toContainText(
    `500 items saved to ${join(repository, '.experience', 'exports')}`,
  );
  const download = await fetch(`${server.origin}/api/experience.npz?sample=100`, { headers: { Authorization: `Bearer ${server.token}` } });
  expect(download.status).toBe(200);
  expect(download.headers.get('x-items')).toBe('100');
  const bytes = Buffer.from(await download.arrayBuffer());
  expect(bytes.subarray(0, 2).toString()).toBe('PK'); // a zip: NumPy's .npz
  expect(bytes.includes(Buffer.from('obs.npy'))).toBe(true);
  // The link carries the query and no token: the page's cookie authorizes it, and the page's own URL dropped the token.
  expect(new URL(page.url()).searchParams.has('token')).toBe(false);
  await expect(page.getByTestId('experience-download')).toHaveAttribute('href', '/api/experience.npz?newest=500');
  const [fromLink] = await Promise.all([page.waitForEvent('download'), page.getByTestId('experience-download').click()]);
  expect(await fromLink.failure()).toBeNull();
  expect(
    readFileSync(await fromLink.path())
      .subarray(0, 2)
      .toString(),
  ).toBe('PK');
  const bad = await fetch(`${server.origin}/api/experience.npz?sample=-1`, { headers: { Authorization: `Bearer ${server.token}` } });
  expect(bad.status).toBe(400);
  expect((await fetch(`${server.origin}/api/experience.npz`)).status).toBe(401);
});

test('clear asks first, then empties the table', async ({ page }) => {
  await openExperience(page);
  // Hold the actors (their requests wait in the paused queue) so the table stays empty once cleared.
  expect((await command('queue.pause', { model: 'cartpole' })).ok).toBe(true);
  try {
    await page.getByTestId('experience-clear').click();
    await expect(page.getByTestId('experience-clear-confirm')).toBeVisible();
    expect((await snapshot()).experience.size).toBeGreaterThan(0); // nothing happens before the confirmation
    await page.getByTestId('experience-clear-confirm').click();
    await expect(page.getByTestId('experience-clear-result')).toHaveText('done');
    // At most the transitions already in flight when the queue paused arrive after the clear.
    expect((await snapshot()).experience.size).toBeLessThanOrEqual(64);
    await expect(page.getByTestId('experience-size')).toHaveText(/^\d{1,2} \//);
  } finally {
    await command('queue.resume', { model: 'cartpole' });
  }
  await expect.poll(async () => (await snapshot()).experience.size, { timeout: 30_000 }).toBeGreaterThan(1000);
});
