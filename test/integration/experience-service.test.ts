import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EventLog } from '../../src-main/engine/events.js';
import { standardFields, type ExperienceBuffer } from '../../src-main/experience/buffer.js';
import { CHECKPOINT_FILE } from '../../src-main/experience/checkpoint.js';
import { ExperienceError, ExperienceService } from '../../src-main/experience/service.js';
import { ExperienceTable } from '../../src-main/experience/table.js';
import { until } from './helpers.js';

const FIELDS = standardFields([4]);
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'switchboard-experience-'));
  cleanups.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

function write(buffer: ExperienceBuffer, n: number, version = 1, from = 0): void {
  for (let i = from; i < from + n; i++) {
    buffer.insert({ obs: [i, 0, 0, 0], action: i % 2, reward: 1, done: 0, next_obs: [i + 1, 0, 0, 0], policy_version: version });
  }
}

async function open(options: Partial<Parameters<typeof ExperienceService.open>[0]> = {}): Promise<ExperienceService> {
  const service = await ExperienceService.open({
    capacity: 1000,
    fields: FIELDS,
    checkpointIntervalMs: 0,
    sampler: { minSize: 1 },
    ...options,
  });
  cleanups.push(() => service.stop());
  return service;
}

describe('experience service', () => {
  it('restores the buffer from the last checkpoint on start, and writes one on stop', async () => {
    const dir = tempDir();
    const first = await ExperienceService.open({
      capacity: 1000,
      fields: FIELDS,
      checkpointDir: dir,
      checkpointIntervalMs: 0,
      sampler: { minSize: 1 },
    });
    expect(first.snapshot(null).checkpoint.restored).toBeNull();
    write(first.buffer, 300);
    first.start();
    await first.stop(); // the final checkpoint
    expect(existsSync(join(dir, CHECKPOINT_FILE))).toBe(true);

    const second = await open({ checkpointDir: dir });
    const snapshot = second.snapshot(null);
    expect(snapshot.size).toBe(300);
    expect(snapshot.checkpoint.restored?.items).toBe(300);
    // Every item written before the checkpoint comes back, once each, in order.
    const fifo = new ExperienceTable(second.buffer, { sampler: 'fifo' });
    fifo.pull();
    const obs = (await fifo.sample(300)).data.get('obs')!;
    expect(Array.from({ length: 300 }, (_, row) => obs[row * 4])).toEqual(Array.from({ length: 300 }, (_, i) => i));
  });

  it('moves a corrupt checkpoint aside, says so, and starts empty', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, CHECKPOINT_FILE), 'SBXP not really a checkpoint, and far too short to hold a checksum');
    const events = new EventLog();
    const service = await open({ checkpointDir: dir, events });
    expect(service.snapshot(null).size).toBe(0);
    expect(readdirSync(dir).some((name) => name.startsWith(`${CHECKPOINT_FILE}.corrupt-`))).toBe(true);
    expect(events.since(0).some((e) => e.level === 'warn' && /checkpoint refused/.test(e.message))).toBe(true);
  });

  it('refuses a checkpoint of another layout rather than loading it', async () => {
    const dir = tempDir();
    const other = await ExperienceService.open({ capacity: 50, fields: FIELDS, checkpointDir: dir, sampler: { minSize: 1, batchSize: 8 } });
    write(other.buffer, 10);
    await other.checkpointNow();
    const service = await open({ checkpointDir: dir });
    expect(service.buffer.capacity).toBe(1000);
    expect(service.snapshot(null).size).toBe(0);
    expect(readdirSync(dir).some((name) => name.startsWith(`${CHECKPOINT_FILE}.incompatible-`))).toBe(true);
  });

  it('once sampling stops, writers are no longer held back by the limiter', async () => {
    const service = await open({ sampler: { batchSize: 8, minSize: 1, samplesPerInsert: 1 } });
    service.start();
    write(service.buffer, 200); // far past the allowance: nobody samples
    service.snapshot(null); // the table takes them in and sets the allowance
    expect(service.buffer.insertsHeld).toBe(true);
    await service.stopSampling();
    expect(service.buffer.insertsHeld).toBe(false);
    write(service.buffer, 50, 1, 200);
    service.snapshot(null); // taking in more items does not hold writers again
    expect(service.buffer.insertsHeld).toBe(false);
  });

  it('checkpointNow without a directory is a typed error', async () => {
    const service = await open();
    await expect(service.checkpointNow()).rejects.toBeInstanceOf(ExperienceError);
  });

  it('clear removes every item for every reader and for later checkpoints, while writing goes on', async () => {
    const dir = tempDir();
    const service = await open({ checkpointDir: dir });
    const other = new ExperienceTable(service.buffer, { sampler: 'uniform' });
    write(service.buffer, 200);
    other.pull();
    expect(service.snapshot(null).size).toBe(200);
    expect(service.clear()).toEqual({ removed: 200 });
    write(service.buffer, 5, 1, 1000);
    other.pull();
    expect(service.snapshot(null).size).toBe(5);
    expect(other.size).toBe(5);
    const obs = (await service.table.sample(50)).data.get('obs')!;
    for (let row = 0; row < 50; row++) expect(obs[row * 4]).toBeGreaterThanOrEqual(1000);
    await service.checkpointNow();
    const restored = await open({ checkpointDir: dir });
    expect(restored.snapshot(null).size).toBe(5);
  });

  it('reconfigures the sampler over the same items; invalid settings change nothing', async () => {
    const service = await open();
    write(service.buffer, 100);
    expect(service.configure({ sampler: 'fifo', batchSize: 10 }).sampler).toBe('fifo');
    expect(service.snapshot(null).size).toBe(100);
    const batch = await service.table.sample(10);
    expect(Array.from({ length: 10 }, (_, row) => batch.data.get('obs')![row * 4])).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const before = service.table;
    expect(() => service.configure({ samplesPerInsert: -1 })).toThrow(ExperienceError);
    expect(() => service.configure({ minSize: 5000 })).toThrow(/exceeds the buffer's capacity/);
    expect(service.table).toBe(before);
    expect(service.settings.samplesPerInsert).toBe(0.25);
  });

  it('feeds batches to a consumer under the rate limiter and applies the priorities it returns', async () => {
    const service = await open({ sampler: { batchSize: 32, minSize: 50, samplesPerInsert: 1 } });
    write(service.buffer, 400);
    const seen: number[] = [];
    service.start((batch) => {
      seen.push(batch.slots.length);
      // Priority = the item's first observation value + 1: the table's distribution must follow.
      const obs = batch.data.get('obs')!;
      return Promise.resolve(Float64Array.from({ length: batch.slots.length }, (_, row) => obs[row * 4]! + 1));
    });
    // samplesPerInsert 1 with 400 inserts: the consumer gets about 400 + the error buffer, then waits.
    await until(() => service.snapshot(null).limiter.holding === 'samples', 10_000, 'the limiter holding samples back');
    const snapshot = service.snapshot(2);
    expect(snapshot.sampled).toBeGreaterThanOrEqual(400);
    expect(snapshot.sampled).toBeLessThanOrEqual(400 + 128 + 32);
    expect(snapshot.consumer.batches).toBe(seen.length);
    expect(snapshot.priorities!.max).toBeGreaterThan(10); // raised from the initial 1 by the consumer
    expect(snapshot.policyLag).toMatchObject({ mean: 1, max: 1 });
    expect(snapshot.policyLag!.buckets.find((b) => b.lag === '1')!.count).toBe(400);
    // New inserts let sampling go on.
    const batches = snapshot.consumer.batches;
    write(service.buffer, 100, 2, 400);
    await until(() => service.snapshot(null).consumer.batches > batches, 10_000, 'sampling to resume');
  });
});

/** The arrays of a stored (uncompressed) .npz, each as its raw little-endian bytes and header. */
function readNpz(bytes: Uint8Array): Map<string, { header: string; data: Buffer }> {
  const buffer = Buffer.from(bytes);
  const entries = new Map<string, { header: string; data: Buffer }>();
  let offset = 0;
  while (buffer.readUInt32LE(offset) === 0x04034b50) {
    const size = buffer.readUInt32LE(offset + 18);
    const nameLength = buffer.readUInt16LE(offset + 26);
    const extraLength = buffer.readUInt16LE(offset + 28);
    const name = buffer.subarray(offset + 30, offset + 30 + nameLength).toString();
    const npy = buffer.subarray(offset + 30 + nameLength + extraLength, offset + 30 + nameLength + extraLength + size);
    const headerLength = npy.readUInt16LE(8);
    entries.set(name.replace(/\.npy$/, ''), {
      header: npy.subarray(10, 10 + headerLength).toString(),
      data: npy.subarray(10 + headerLength),
    });
    offset += 30 + nameLength + extraLength + size;
  }
  return entries;
}

describe('experience export', () => {
  it('exports every item, the newest N, or a random sample, as .npz, without touching the table', async () => {
    const service = await open({ capacity: 100 });
    write(service.buffer, 130); // laps the buffer: items 30..129 are held
    service.table.pull();
    const before = service.table.stats();
    const all = readNpz(service.exportNpz().bytes);
    expect(all.get('obs')!.header).toMatch(/'shape': \(100, 4\)/);
    const firstObs = (entries: Map<string, { data: Buffer }>) => {
      const data = entries.get('obs')!.data;
      return Array.from({ length: data.length / 16 }, (_, row) => data.readFloatLE(row * 16));
    };
    expect(firstObs(all)).toEqual(Array.from({ length: 100 }, (_, i) => 30 + i));
    const newest = service.exportNpz({ kind: 'newest', items: 5 });
    expect(newest.items).toBe(5);
    expect(firstObs(readNpz(newest.bytes))).toEqual([125, 126, 127, 128, 129]);
    const sample = readNpz(service.exportNpz({ kind: 'sample', items: 50 }).bytes);
    expect(sample.get('reward')!.header).toMatch(/'descr': '<f4'.*'shape': \(50,\)/);
    for (const value of firstObs(sample)) expect(value).toBeGreaterThanOrEqual(30);
    expect(sample.get('generation')!.header).toMatch(/'shape': \(50,\)/);
    expect(service.table.stats()).toEqual(before);
  });

  it('writes an export into the export folder under a name it makes itself', async () => {
    const dir = tempDir();
    const service = await open({ checkpointDir: dir });
    write(service.buffer, 20);
    const result = await service.exportToFile({ kind: 'newest', items: 10 });
    expect(result.path.startsWith(join(dir, 'exports', 'experience-'))).toBe(true);
    expect(result.items).toBe(10);
    expect(readdirSync(join(dir, 'exports'))).toHaveLength(1);
  });
});
