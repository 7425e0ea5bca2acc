/**
 * Adding a model from the Models page of the headless dashboard, in Chromium: a file
 * dropped onto the page becomes a new model, validated and then active; a file chosen for
 * an existing model becomes its next version; a file that is not a model is shown invalid
 * with its reason. The upload's refusals (a bad name, no token, another origin, the wrong
 * content type, a size past the limit) change nothing in the repository.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { startServer, type RunningServer } from './server.js';

let server: RunningServer;
let policyBytes: Buffer;

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  server = await startServer(['--demo', 'synthetic', '--load', '0']); // a temporary repository holding the demo's policy v1
  const file = join(server.repository, 'policy', '1', 'model.onnx');
  await expect.poll(() => existsSync(file), { timeout: 30_000 }).toBe(true);
  policyBytes = readFileSync(file);
});

test.afterAll(async () => {
  await server.stop();
});

async function openModels(page: Page): Promise<void> {
  await page.goto(server.url);
  await expect(page.getByTestId('connection-status')).toHaveText('Connected');
  await page.getByTestId('nav-models').click();
}

test('a file dropped on the Models page becomes a new model, validated and active', async ({ page }) => {
  await openModels(page);
  const drop = page.getByTestId('add-model-drop');
  const dataTransfer = await page.evaluateHandle((bytes) => {
    const transfer = new DataTransfer();
    transfer.items.add(new File([new Uint8Array(bytes)], 'uploaded policy.onnx', { type: 'application/octet-stream' }));
    return transfer;
  }, Array.from(policyBytes));
  await drop.dispatchEvent('drop', { dataTransfer });
  await expect(drop).toContainText('uploaded policy.onnx');
  await expect(page.getByTestId('add-model-name')).toHaveValue('uploaded-policy'); // named after the file, under the name rule
  await page.getByTestId('add-model-submit').click();
  await expect(page.getByTestId('add-model-result')).toContainText('added uploaded-policy v1');
  await expect(page.getByTestId('version-state-uploaded-policy-1')).toHaveText('valid', { timeout: 30_000 });
  await expect(page.getByTestId('model-active-uploaded-policy')).toHaveText('v1', { timeout: 30_000 });
  expect(readFileSync(join(server.repository, 'uploaded-policy', '1', 'model.onnx')).equals(policyBytes)).toBe(true);
  await page.screenshot({ path: 'test-results/models-add-model.png', fullPage: true });
});

test('a file chosen for an existing model becomes its next version; one that is not a model is invalid, with why', async ({ page }) => {
  await openModels(page);
  await page.getByTestId('add-model-name').fill('policy');
  await expect(page.getByTestId('add-model')).toContainText('The file becomes the next version of policy.');
  await page
    .getByTestId('add-model-file')
    .setInputFiles({ name: 'policy.onnx', mimeType: 'application/octet-stream', buffer: policyBytes });
  await page.getByTestId('add-model-submit').click();
  await expect(page.getByTestId('add-model-result')).toContainText('added policy v2');
  await expect(page.getByTestId('model-active-policy')).toHaveText('v2', { timeout: 30_000 });

  await page
    .getByTestId('add-model-file')
    .setInputFiles({ name: 'notes.onnx', mimeType: 'text/plain', buffer: Buffer.from('not a model\n') });
  await page.getByTestId('add-model-submit').click();
  await expect(page.getByTestId('add-model-result')).toContainText('added policy v3');
  await expect(page.getByTestId('version-state-policy-3')).toHaveText('invalid', { timeout: 30_000 });
  await expect(page.getByTestId('model-active-policy')).toHaveText('v2');
});

/** An upload sent by hand: what a page of another site, or a client without the token, would send. */
function upload(path: string, headers: Record<string, string>, body: Buffer | string): Promise<{ status: number; body: string }> {
  const url = new URL(path, server.origin);
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('refuses an upload with a bad name, without the token, from another origin, of another type or past the limit, writing nothing', async () => {
  const auth = { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/octet-stream' };
  const before = readdirSync(server.repository).sort();
  const refusals = [
    [await upload('/api/models/..%2Fescape/versions', auth, policyBytes), 400, 'INVALID_MODEL_NAME'],
    [await upload('/api/models/.hidden/versions', auth, policyBytes), 400, 'INVALID_MODEL_NAME'],
    [await upload('/api/models/fresh/versions', { 'Content-Type': 'application/octet-stream' }, policyBytes), 401, 'UNAUTHORIZED'],
    [await upload('/api/models/fresh/versions', { ...auth, Origin: 'https://evil.example' }, policyBytes), 403, 'FORBIDDEN_ORIGIN'],
    [await upload('/api/models/fresh/versions', { ...auth, 'Content-Type': 'text/plain' }, policyBytes), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    [await upload('/api/models/fresh/versions', { ...auth, 'Content-Length': String(3 * 1024 ** 3) }, ''), 413, 'TOO_LARGE'],
    [await upload('/api/models/fresh/versions', auth, ''), 400, 'EMPTY_FILE'],
  ] as const;
  for (const [answer, status, code] of refusals) {
    expect(answer.status, answer.body).toBe(status);
    expect(JSON.parse(answer.body)).toMatchObject({ ok: false, error: { code } });
  }
  expect(readdirSync(server.repository).sort()).toEqual(before);
  const created = await upload('/api/models/fresh/versions', auth, policyBytes);
  expect(created.status).toBe(201);
  expect(JSON.parse(created.body)).toEqual({ ok: true, result: { model: 'fresh', version: 1, bytes: policyBytes.byteLength } });
  expect(readdirSync(join(server.repository, 'fresh'))).toEqual(['1']); // no staging folder left behind
});

test('edits a model’s settings in a form: a refused value is shown beside it and changes nothing; a good one is written and in force', async ({
  page,
}) => {
  const configFile = join(server.repository, 'policy', 'config.json');
  const before = existsSync(configFile) ? readFileSync(configFile, 'utf8') : null;
  await openModels(page);
  const form = page.getByTestId('model-settings-policy');
  await form.locator('summary').click();
  await page.getByTestId('setting-policy-batching.maxBatchSize').fill('100000');
  await page.getByTestId('settings-save-policy').click();
  await expect(page.getByTestId('settings-result-policy')).toContainText('batching.maxBatchSize');
  expect(existsSync(configFile) ? readFileSync(configFile, 'utf8') : null).toBe(before);

  await page.getByTestId('setting-policy-batching.maxBatchSize').fill('32');
  await page.getByTestId('setting-policy-queue.fullPolicy').selectOption('wait');
  await page.getByTestId('settings-save-policy').click();
  await expect(page.getByTestId('settings-result-policy')).toContainText('saved config.json (in force now: queue, batching.maxBatchSize');
  expect(JSON.parse(readFileSync(configFile, 'utf8'))).toEqual({ batching: { maxBatchSize: 32 }, queue: { fullPolicy: 'wait' } });
  const snapshot = (await (
    await fetch(`${server.origin}/api/snapshot`, { headers: { Authorization: `Bearer ${server.token}` } })
  ).json()) as {
    engine: { models: { name: string; batching: { maxBatchRows: number } }[]; queues: { model: string; policy: { fullPolicy: string } }[] };
  };
  expect(snapshot.engine.models.find((m) => m.name === 'policy')!.batching.maxBatchRows).toBe(32);
  expect(snapshot.engine.queues.find((q) => q.model === 'policy')!.policy.fullPolicy).toBe('wait');
  await page.screenshot({ path: 'test-results/models-settings.png', fullPage: true });
});
