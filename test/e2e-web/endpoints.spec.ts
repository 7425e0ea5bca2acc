/**
 * The Endpoints page against the real headless server: the addresses it printed, the token
 * masked until asked for and copied to the clipboard, a Python snippet that runs as pasted
 * (in the project's virtual environment, with tritonclient), the traffic it caused, and the
 * shared-memory regions clients registered (on this page and on the Shared memory page).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { startServer, type RunningServer } from './server.js';

let server: RunningServer;
let inferenceUrl: string;

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  server = await startServer(['--demo', 'synthetic', '--load', '0']);
  inferenceUrl = server.inferenceUrl!;
  expect(inferenceUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  // Waited for through the dashboard's API, so that the inference API's counts hold only what the tests send.
  await expect
    .poll(
      async () => {
        const snapshot = (await (await fetch(`${server.origin}/api/snapshot`, { headers: bearer() })).json()) as {
          engine: { models: unknown[] };
        };
        return snapshot.engine.models.length;
      },
      { timeout: 30_000 },
    )
    .toBeGreaterThan(0);
});

test.afterAll(async () => {
  await server.stop();
});

function bearer(): Record<string, string> {
  return { Authorization: `Bearer ${server.token}` };
}

async function openEndpoints(page: Page): Promise<void> {
  await page.goto(server.url);
  await expect(page.getByTestId('connection-status')).toHaveText('Connected');
  await page.getByTestId('nav-endpoints').click();
}

function infer(body: unknown): Promise<Response> {
  return fetch(`${inferenceUrl}/v2/models/policy/infer`, {
    method: 'POST',
    headers: { ...bearer(), 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
}

test('shows the addresses the server printed and the token masked until asked for', async ({ page, context }) => {
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  await openEndpoints(page);
  await expect(page.getByTestId('endpoint-http')).toHaveText(inferenceUrl);
  await expect(page.getByTestId('endpoint-grpc')).toHaveText(/Inference gRPC: (\S+)/.exec(server.output())![1]!);
  await expect(page.getByTestId('endpoint-metrics')).toContainText(/Metrics: (\S+)/.exec(server.output())![1]!);
  await expect(page.getByTestId('endpoint-metrics')).toContainText('token required');
  const token = page.getByTestId('endpoint-token');
  await expect(token).toContainText(server.token.slice(-4));
  await expect(token).not.toContainText(server.token);
  await page.getByTestId('token-toggle').click();
  await expect(token).toHaveText(server.token);
  await page.getByTestId('token-toggle').click();
  await expect(token).not.toContainText(server.token);
  await page.getByTestId('copy-token').click();
  await expect(page.getByTestId('copy-token-result')).toHaveText('copied');
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(server.token);
});

test('counts the requests it served and its errors by code', async ({ page }) => {
  const good = { inputs: [{ name: 'obs', datatype: 'FP32', shape: [1, 64], data: new Array<number>(64).fill(0.5) }] };
  for (let i = 0; i < 3; i++) expect((await infer(good)).status).toBe(200);
  const bad = await infer({ inputs: [{ name: 'obs', datatype: 'FP32', shape: [1, 63], data: new Array<number>(63).fill(0) }] });
  expect(bad.status).toBe(400);
  expect((await fetch(`${inferenceUrl}/v2/models/nope`, { headers: bearer() })).status).toBe(404);
  await openEndpoints(page);
  await expect(page.getByTestId('traffic-infer-http')).toHaveText('4');
  await expect(page.getByTestId('traffic-errors-http')).toHaveText('2');
  await expect(page.getByTestId('traffic-codes-http')).toHaveText(/^(400: 1, 404: 1|404: 1, 400: 1)$/);
});

for (const protocol of ['http', 'grpc'] as const) {
  test(`gives a Python snippet over ${protocol} that runs as pasted`, async ({ page, context }) => {
    await context.grantPermissions(['clipboard-read', 'clipboard-write']);
    await openEndpoints(page);
    await page.getByTestId(`snippet-${protocol}`).click();
    await expect(page.getByTestId(`snippet-${protocol}`)).toHaveAttribute('aria-pressed', 'true');
    const shown = (await page.getByTestId('python-snippet').textContent())!;
    expect(shown).toContain(`import tritonclient.${protocol} as ${protocol}`);
    expect(shown).toContain(`${protocol}.InferenceServerClient("127.0.0.1:`);
    expect(shown).toContain(`${protocol}.InferInput("obs", [1, 64], "FP32")`);
    expect(shown).not.toContain(server.token);
    await page.getByTestId('copy-snippet').click();
    const pasted = await page.evaluate(() => navigator.clipboard.readText());
    expect(pasted).toBe(shown);

    const python = join('.venv', 'bin', 'python');
    const probe = existsSync(python) ? spawnSync(python, ['-c', `import tritonclient.${protocol}, numpy`]) : undefined;
    test.skip(probe?.status !== 0, `no .venv with tritonclient[${protocol}] and numpy (.ci/run makes it): the snippet is not run`);
    const file = join(mkdtempSync(join(tmpdir(), 'switchboard-snippet-')), 'snippet.py');
    writeFileSync(file, pasted);
    const run = spawnSync(python, [file], { encoding: 'utf8', env: { ...process.env, SWITCHBOARD_TOKEN: server.token }, timeout: 60_000 });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^logits \[\[/);
  });
}

test('lists the shared-memory regions clients register, here and on the Shared memory page', async ({ page }) => {
  const key = `sb-e2e-${process.pid}`;
  writeFileSync(join('/dev/shm', key), Buffer.alloc(4096));
  const shm = (path: string, body?: unknown) =>
    fetch(`${inferenceUrl}/v2/systemsharedmemory${path}`, {
      method: 'POST',
      headers: { ...bearer(), 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  try {
    expect((await shm('/region/actor-obs/register', { key: `/${key}`, offset: 1024, byte_size: 2048 })).status).toBe(200);
    await openEndpoints(page);
    const row = page.getByTestId('client-region-actor-obs');
    await expect(row).toContainText(`/${key}`);
    await expect(row).toContainText('2 KiB');
    await expect(row).toContainText('127.0.0.1');
    await expect(page.getByTestId('client-regions-summary')).toContainText('1 of 512 regions');
    await page.screenshot({ path: 'test-results/endpoints-shared-memory.png', fullPage: true });
    await page.getByTestId('nav-memory').click();
    await expect(page.getByTestId('client-region-actor-obs')).toContainText(`/${key}`);
    expect((await shm('/region/actor-obs/unregister')).status).toBe(200);
    await expect(page.getByTestId('client-regions')).toContainText('No region is registered');
    await expect(page.getByTestId('client-regions-summary')).toContainText('Descriptors open: 0');
  } finally {
    await shm('/unregister');
    rmSync(join('/dev/shm', key), { force: true });
  }
});
