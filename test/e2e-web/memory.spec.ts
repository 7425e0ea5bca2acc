/**
 * The Shared memory page, in Chromium, for a model whose shapes vary (NonZero: an output
 * whose size only the run knows): its arenas are slots sized in bytes, a run that fits stays
 * in its slot, one that does not moves by transfer and is counted, and the answers are right
 * either way (the inference API's JSON, as a client reads it).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { OnnxGraphBuilder } from '../../src-main/models/onnx-builder.js';
import { startServer, type RunningServer } from './server.js';

const SLOT_BYTES = 64;
let server: RunningServer;

test.beforeAll(async () => {
  server = await startServer(['--demo', 'synthetic', '--load', '0']);
  const nonzero = new OnnxGraphBuilder('nonzero')
    .input('x', 'float32', ['N'])
    .output('y', 'int64', [1, 'K'])
    .node('NonZero', ['x'], ['y'])
    .build();
  mkdirSync(join(server.repository, 'nonzero'), { recursive: true });
  writeFileSync(join(server.repository, 'nonzero', 'config.json'), JSON.stringify({ workers: { variableSlotBytes: SLOT_BYTES } }));
  server.publish('nonzero', 1, nonzero);
});

test.afterAll(async () => {
  await server.stop();
});

async function nonZero(x: number[]): Promise<unknown> {
  const response = await fetch(`${server.inferenceUrl}/v2/models/nonzero/infer`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${server.token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [x.length], data: x }] }),
  });
  expect(response.status).toBe(200);
  const body = (await response.json()) as { outputs: unknown[] };
  return body.outputs[0]!;
}

test('a model whose shapes vary is served through byte slots, and what its slots cannot hold is counted as moved by transfer', async ({
  page,
}) => {
  const ready = async () =>
    (await fetch(`${server.inferenceUrl}/v2/models/nonzero/ready`, { headers: { Authorization: `Bearer ${server.token}` } })).status;
  await expect.poll(ready, { timeout: 30_000 }).toBe(200);

  // 4 floats in and 2 int64 out fit in a 64-byte slot; 40 floats (160 bytes) in and 20 out (160) do not.
  expect(await nonZero([0, 1, 0, 2])).toEqual({ name: 'y', datatype: 'INT64', shape: [1, 2], data: [1, 3] });
  const large = Array.from({ length: 40 }, (_, i) => i % 2);
  const odd = Array.from({ length: 20 }, (_, i) => 2 * i + 1);
  expect(await nonZero(large)).toEqual({ name: 'y', datatype: 'INT64', shape: [1, 20], data: odd });

  await page.goto(server.url);
  await expect(page.getByTestId('connection-status')).toHaveText('Connected');
  await page.getByTestId('nav-memory').click();
  // The demo's policy has fixed rows (its arenas are cut into rows); only the NonZero model's are in bytes.
  const byteArenas = page.locator('[data-testid^="arena-kind-"]', { hasText: 'shared memory, in bytes' });
  await expect(byteArenas).toHaveCount(2); // one per worker
  await expect(page.locator('[data-testid^="arena-kind-"]', { hasText: 'shared memory, in rows' }).first()).toBeVisible();
  const names = (await byteArenas.evaluateAll((cells) => cells.map((c) => c.getAttribute('data-testid')!))).map((id) =>
    id.slice('arena-kind-'.length),
  );
  const slotsPerWorker = 2; // workers.maxInflightBatches' default
  for (const name of names) await expect(page.getByTestId(`arena-capacity-${name}`)).toHaveText(`${SLOT_BYTES * slotsPerWorker} B`);
  const transferRuns = async () => {
    let total = 0;
    for (const name of names) total += Number(await page.getByTestId(`arena-transfer-runs-${name}`).textContent());
    return total;
  };
  await expect.poll(transferRuns).toBe(1);
  await page.screenshot({ path: 'test-results/memory-byte-slots.png', fullPage: true });
});
