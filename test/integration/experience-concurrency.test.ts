import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { restoreCheckpoint, writeCheckpoint } from '../../src-main/experience/checkpoint.js';
import { ExperienceBuffer, type FieldSpec } from '../../src-main/experience/buffer.js';
import { ExperienceTable } from '../../src-main/experience/table.js';
import { ShuttingDownError } from '../../src-main/engine/errors.js';
import { spawnModuleWorker } from '../../src-main/util/spawn.js';

const WIDTH = 8;
const FIELDS: FieldSpec[] = [
  { name: 'id', dtype: 'int32', shape: [] },
  { name: 'obs', dtype: 'float32', shape: [WIDTH] },
  { name: 'check', dtype: 'int32', shape: [] },
];

function spawnWriter(buffer: ExperienceBuffer, writer: number, count: number, gated = false): Worker {
  return spawnModuleWorker(
    { callerUrl: import.meta.url, source: '../fixtures/experience-writer.ts', built: 'unused.js' },
    { workerData: { descriptor: buffer.descriptor, writer, count, width: WIDTH, gated } },
  );
}

function startWriters(buffer: ExperienceBuffer, writers: number, count: number): Promise<void>[] {
  return Array.from({ length: writers }, (_, writer) => {
    const worker = spawnWriter(buffer, writer, count);
    return new Promise<void>((resolve, reject) => {
      worker.once('message', () => void worker.terminate().then(() => resolve()));
      worker.once('error', reject);
    });
  });
}

/** Every field of a sampled row must come from the same item. */
function assertWhole(batch: Awaited<ReturnType<ExperienceTable['sample']>>): void {
  const ids = batch.data.get('id')!;
  const obs = batch.data.get('obs')!;
  const check = batch.data.get('check')!;
  for (let row = 0; row < batch.slots.length; row++) {
    const id = ids[row]!;
    expect(check[row]).toBe((id * 7) % 65_536);
    for (let k = 0; k < WIDTH; k++) expect(obs[row * WIDTH + k]).toBe(id % 65_536);
  }
}

/** Sample (checking every row is whole) for as long as the writers run; returns the rows sampled. */
async function sampleWhileWriting(table: ExperienceTable, writers: Promise<void>[], batchSize: number): Promise<number> {
  let finished = false;
  const done = Promise.all(writers).then(() => (finished = true));
  let rows = 0;
  while (!finished) {
    table.pull();
    if (table.size > 0) {
      const batch = await table.sample(batchSize);
      assertWhole(batch);
      rows += batch.slots.length;
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  await done;
  return rows;
}

describe('experience buffer under concurrent writers', () => {
  it('N writer threads and a concurrent sampler: no torn or duplicated items, and the counts add up', async () => {
    const writers = 4;
    const perWriter = 5000;
    const buffer = ExperienceBuffer.create(writers * perWriter, FIELDS);
    const uniform = new ExperienceTable(buffer, { sampler: 'uniform' });
    const sampledRows = await sampleWhileWriting(uniform, startWriters(buffer, writers, perWriter), 64);
    expect(sampledRows).toBeGreaterThan(0);
    expect(buffer.counts()).toEqual({ reserved: writers * perWriter, committed: writers * perWriter, dropped: 0 });
    uniform.pull();
    expect(uniform.stats()).toMatchObject({ size: writers * perWriter, inserts: writers * perWriter });
    // A FIFO table over the same memory sees every item exactly once, each writer's in order.
    const fifo = new ExperienceTable(buffer, { sampler: 'fifo' });
    fifo.pull();
    const all = await fifo.sample(writers * perWriter);
    assertWhole(all);
    const ids = Array.from(all.data.get('id')!);
    expect(new Set(ids).size).toBe(writers * perWriter);
    for (let w = 0; w < writers; w++) {
      const mine = ids.filter((id) => Math.floor(id / 1_000_000) === w);
      expect(mine).toEqual(Array.from({ length: perWriter }, (_, i) => w * 1_000_000 + i));
    }
  });

  it('writers lapping a small buffer never hand the sampler a half-written item', async () => {
    const buffer = ExperienceBuffer.create(256, FIELDS);
    const table = new ExperienceTable(buffer, { sampler: 'uniform' });
    expect(await sampleWhileWriting(table, startWriters(buffer, 3, 20_000), 128)).toBeGreaterThan(0);
    const counts = buffer.counts();
    expect(counts.committed + counts.dropped).toBe(60_000); // a lapped write is dropped, never half-published
  });

  it('a checkpoint taken while writer threads write restores only whole items, each once', async () => {
    const buffer = ExperienceBuffer.create(4096, FIELDS);
    const writers = startWriters(buffer, 2, 150_000);
    let finished = false;
    const done = Promise.all(writers).then(() => (finished = true));
    const dirs: string[] = [];
    let takenMidWrite = 0;
    try {
      await buffer.waitForCommit(0, 30_000); // the threads have started writing
      while (!finished) {
        const dir = mkdtempSync(join(tmpdir(), 'sb-ckpt-live-'));
        dirs.push(dir);
        const before = buffer.counts().committed;
        await writeCheckpoint(dir, buffer);
        if (buffer.counts().committed > before) takenMidWrite++;
      }
      await done;
      expect(takenMidWrite).toBeGreaterThan(0); // at least one checkpoint overlapped the writes (each writer runs far longer than a copy)
      for (const dir of dirs) {
        const restored = (await restoreCheckpoint(dir))!;
        const table = new ExperienceTable(restored, { sampler: 'fifo' });
        table.pull();
        expect(table.size).toBeGreaterThan(0);
        const all = await table.sample(table.size);
        assertWhole(all);
        const ids = Array.from(all.data.get('id')!);
        expect(new Set(ids).size).toBe(ids.length);
        // Restored, it takes new items after the old ones as any buffer does.
        restored.insert({ id: 7, obs: new Float32Array(WIDTH).fill(7), check: 49 });
        table.pull();
        assertWhole(await table.sample(1));
      }
    } finally {
      for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a writer thread waits while the rate limiter holds inserts back, and goes on once samples catch up', async () => {
    const buffer = ExperienceBuffer.create(1024, FIELDS);
    const table = new ExperienceTable(buffer, {
      sampler: 'uniform',
      rateLimiter: { kind: 'sampleToInsertRatio', samplesPerInsert: 1, minSize: 10, errorBuffer: 20 },
    });
    const worker = spawnWriter(buffer, 0, 300, true);
    const messages: { type: string; written?: number }[] = [];
    let finished = false;
    // The writer's last insert lands before its 'done' message is read here, so a sample
    // started in between could wait for inserts that will never come: 'done' cancels it.
    const writerDone = new AbortController();
    worker.on('message', (m: { type: string; written?: number } | 'done') => {
      if (m === 'done') {
        finished = true;
        writerDone.abort();
      } else messages.push(m);
    });
    // The table takes in what the writer commits and, past the limiter's allowance, holds inserts.
    while (!messages.some((m) => m.type === 'waiting') && !finished) {
      table.pull();
      await new Promise((resolve) => setImmediate(resolve));
    }
    const first = messages.find((m) => m.type === 'waiting');
    expect(first, 'the writer was held back before writing everything').toBeDefined();
    expect(buffer.counts().committed).toBe(first!.written); // nothing written while it waits
    expect(table.limiterState().canInsert).toBe(false);
    // Sampling moves the limiter, which opens the gate; the writer finishes.
    while (!finished) {
      try {
        assertWhole(await table.sample(8, 10_000, writerDone.signal));
      } catch (error) {
        if (!(error instanceof ShuttingDownError && finished)) throw error;
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    await worker.terminate();
    table.pull();
    expect(table.stats().inserts).toBe(300);
    expect(messages.filter((m) => m.type === 'timeout')).toEqual([]);
    // Inserts never ran ahead of samples by more than the limiter allows (offset 10 + error 20), plus the one in flight.
    expect(table.stats().inserts - table.stats().samples).toBeLessThanOrEqual(10 + 20 + 8 + 1);
  });
});
