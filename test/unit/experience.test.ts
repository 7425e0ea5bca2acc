import { describe, expect, it, vi } from 'vitest';
import { RateLimitedError } from '../../src-main/engine/errors.js';
import { ExperienceBuffer, standardFields, type FieldSpec } from '../../src-main/experience/buffer.js';
import { SumTree } from '../../src-main/experience/sum-tree.js';
import { ExperienceTable } from '../../src-main/experience/table.js';
import { mulberry32 } from '../../src-main/util/prng.js';

const FIELDS: FieldSpec[] = [
  { name: 'id', dtype: 'int32', shape: [] },
  { name: 'obs', dtype: 'float32', shape: [4] },
];

/** Pearson chi-square statistic of observed counts against expected probabilities. */
function chiSquare(observed: number[], probabilities: number[]): number {
  const n = observed.reduce((a, b) => a + b, 0);
  return observed.reduce((sum, o, i) => sum + (o - n * probabilities[i]!) ** 2 / (n * probabilities[i]!), 0);
}

// 99.9th percentile of chi-square with k-1 = 7 degrees of freedom.
const CHI2_7DF_999 = 24.32;

/** Observed counts over 8 outcomes are consistent with probabilities proportional to `weights`. */
function expectProportional(counts: number[], weights: number[]): void {
  const total = weights.reduce((a, b) => a + b, 0);
  expect(
    chiSquare(
      counts,
      weights.map((w) => w / total),
    ),
  ).toBeLessThan(CHI2_7DF_999);
}

function filled(capacity: number, items: number, sampler: 'uniform' | 'prioritized' | 'fifo', extra: object = {}) {
  const buffer = ExperienceBuffer.create(capacity, FIELDS);
  const table = new ExperienceTable(buffer, { sampler, random: mulberry32(7), alpha: 1, ...extra });
  for (let i = 0; i < items; i++) buffer.insert({ id: i, obs: [i, i, i, i] });
  table.pull();
  return { buffer, table };
}

describe('sum tree', () => {
  it('samples leaves in proportion to their priorities (chi-square)', () => {
    const priorities = [1, 2, 3, 4, 0.5, 8, 0.25, 5];
    const tree = new SumTree(priorities.length);
    priorities.forEach((p, i) => tree.set(i, p));
    const random = mulberry32(1);
    const counts = new Array<number>(8).fill(0);
    for (let i = 0; i < 200_000; i++) counts[tree.find(random() * tree.total)]!++;
    expectProportional(counts, priorities);
  });

  it('never returns a zero-priority leaf, and survives drift by rebuilding', () => {
    const tree = new SumTree(5, 10);
    [0, 1e-9, 0, 3, 0].forEach((p, i) => tree.set(i, p));
    for (let k = 0; k < 1000; k++) {
      const leaf = tree.find(Math.min(tree.total * 0.999999, (k / 1000) * tree.total));
      expect([1, 3]).toContain(leaf);
    }
    for (let k = 0; k < 100; k++) tree.set(3, 0.1 * k); // many updates trigger rebuilds
    expect(tree.total).toBeCloseTo(9.9 + 1e-9, 9);
  });
});

describe('experience table', () => {
  it('prioritized sampling follows priorities and reports probabilities and IS weights', async () => {
    const { table } = filled(8, 8, 'prioritized', { beta: 1 });
    const priorities = [1, 2, 3, 4, 0.5, 8, 0.25, 5];
    const all = [0, 1, 2, 3, 4, 5, 6, 7];
    expect(table.updatePriorities(all, new Array<number>(8).fill(1), priorities)).toBe(8);
    const counts = new Array<number>(8).fill(0);
    let batch = await table.sample(1);
    for (let i = 0; i < 5000; i++) {
      batch = await table.sample(32);
      for (const s of batch.slots) counts[s]!++;
    }
    expectProportional(counts, priorities);
    const total = priorities.reduce((a, b) => a + b, 0);
    batch.slots.forEach((slot, row) => expect(batch.probabilities[row]).toBeCloseTo(priorities[slot]! / total, 9));
    expect(Math.max(...batch.weights)).toBeCloseTo(1, 12);
    // beta = 1: weight ∝ 1/p, so the least likely item has the largest weight.
    const order = Array.from(batch.slots.keys()).sort((a, b) => batch.probabilities[a]! - batch.probabilities[b]!);
    expect(batch.weights[order[0]!]).toBe(1);
  });

  it('reports the priorities of every item held, or an even sample of them, wherever the items sit', () => {
    const few = filled(10_000, 100, 'prioritized');
    few.table.updatePriorities(Int32Array.of(7), Int32Array.of(1), Float64Array.of(5));
    const all = few.table.priorities(4096);
    expect(all.length).toBe(100); // items in slots 0..99 of 10,000: none skipped
    expect(Math.max(...all)).toBeCloseTo(5, 9); // alpha undone: the priority as given
    const many = filled(10_000, 10_000, 'uniform');
    expect(many.table.priorities(100).length).toBe(100);
  });

  it('never samples a zero priority', async () => {
    const { table } = filled(4, 4, 'prioritized');
    table.updatePriorities([0, 1, 2, 3], [1, 1, 1, 1], [0, 0, 1, 0]);
    for (let i = 0; i < 200; i++) expect(Array.from((await table.sample(4)).slots).every((s) => s === 2)).toBe(true);
  });

  it('ignores a priority update for a slot that was overwritten since it was sampled', async () => {
    const { buffer, table } = filled(4, 4, 'prioritized');
    const batch = await table.sample(4);
    for (let i = 4; i < 8; i++) buffer.insert({ id: i, obs: [i, i, i, i] }); // overwrites every slot
    table.pull();
    expect(table.updatePriorities(batch.slots, batch.generations, [9, 9, 9, 9])).toBe(0);
    expect(table.stats().staleUpdates).toBe(4);
    const fresh = await table.sample(4);
    expect(Array.from(fresh.generations).every((g) => g === 2)).toBe(true);
    expect(table.updatePriorities(fresh.slots, fresh.generations, [1, 1, 1, 1])).toBe(4);
  });

  it('FIFO returns each item once, oldest first, and removes it', async () => {
    const { table } = filled(8, 6, 'fifo');
    const a = await table.sample(4);
    expect(Array.from(a.data.get('id')!)).toEqual([0, 1, 2, 3]);
    const b = await table.sample(4);
    expect(Array.from(b.data.get('id')!)).toEqual([4, 5]);
    expect(table.size).toBe(0);
  });

  it('removes an item after maxTimesSampled, and the oldest when full', async () => {
    const { buffer, table } = filled(4, 4, 'uniform', { maxTimesSampled: 2 });
    await table.sample(8);
    expect(table.size).toBe(0);
    expect(table.stats().removedBySampling).toBe(4);
    buffer.insert({ id: 10, obs: [0, 0, 0, 0] }); // slot 0 again: FIFO removal of the oldest
    table.pull();
    expect(table.size).toBe(1);
    expect(Array.from((await table.sample(1)).data.get('id')!)).toEqual([10]);
  });

  it('MinSize blocks sampling without spinning, then times out with RateLimitedError', async () => {
    const buffer = ExperienceBuffer.create(16, FIELDS);
    const table = new ExperienceTable(buffer, { sampler: 'uniform', rateLimiter: { kind: 'minSize', minSize: 3 } });
    await table.insert({ id: 1, obs: [1, 1, 1, 1] });
    // Not spinning means: with nothing committed, the blocked call looks at the buffer only when
    // it starts and when its wait ends, not in a loop.
    const pulls = vi.spyOn(table, 'pull');
    const error = await table.sample(1, 200).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(pulls.mock.calls.length).toBeLessThanOrEqual(3);
    pulls.mockRestore();
    const waiting = table.sample(2, 5000);
    buffer.insert({ id: 2, obs: [2, 2, 2, 2] }); // as an actor thread would: the table learns by Atomics
    buffer.insert({ id: 3, obs: [3, 3, 3, 3] });
    expect((await waiting).slots.length).toBe(2);
  });

  it('a blocked sample misses no commit that lands between its first look and its wait', async () => {
    const buffer = ExperienceBuffer.create(16, FIELDS);
    const table = new ExperienceTable(buffer, { sampler: 'uniform', rateLimiter: { kind: 'minSize', minSize: 3 } });
    for (let id = 1; id <= 2; id++) buffer.insert({ id, obs: [id, id, id, id] });
    // An actor thread commits the third item just after the sample's first pull, and then
    // nothing more (as a writer the limiter holds back): the sample must still find it,
    // not wait for a fourth commit that never comes.
    const pull = table.pull.bind(table);
    let pulls = 0;
    vi.spyOn(table, 'pull').mockImplementation(() => {
      const taken = pull();
      if (++pulls === 1) buffer.insert({ id: 3, obs: [3, 3, 3, 3] });
      return taken;
    });
    // Without the fix the sample waits for its timeout (60 s) and only then looks again: it must
    // be answered before the event loop turns over once more, or it is cancelled and fails.
    const stop = new AbortController();
    const sampled = table.sample(2, 60_000, stop.signal);
    const outcome = await Promise.race([sampled, new Promise((r) => setImmediate(() => r('still waiting')))]);
    stop.abort();
    await sampled.catch(() => undefined);
    expect(outcome).not.toBe('still waiting');
    expect((outcome as Awaited<typeof sampled>).slots.length).toBe(2);
    expect(table.stats().inserts).toBe(3);
  });

  it('SampleToInsertRatio holds back inserts when sampling lags, and samples when inserts lag', async () => {
    const buffer = ExperienceBuffer.create(64, FIELDS);
    const table = new ExperienceTable(buffer, {
      sampler: 'uniform',
      rateLimiter: { kind: 'sampleToInsertRatio', samplesPerInsert: 2, minSize: 2, errorBuffer: 4 },
    });
    // offset = samplesPerInsert x minSize = 4, so inserts - samples/2 may run 4 ahead: the 5th insert waits.
    for (let i = 0; i < 4; i++) await table.insert({ id: i, obs: [i, i, i, i] }, 100);
    await expect(table.insert({ id: 9, obs: [0, 0, 0, 0] }, 100)).rejects.toBeInstanceOf(RateLimitedError);
    await table.sample(4, 100);
    await table.insert({ id: 9, obs: [0, 0, 0, 0] }, 100);
    await table.sample(6, 100);
    await expect(table.sample(4, 100)).rejects.toBeInstanceOf(RateLimitedError);
  });
});

describe('experience buffer', () => {
  it('standard fields carry obs, action, reward, done, next_obs and policy_version', () => {
    const buffer = ExperienceBuffer.create(2, standardFields([4], []));
    buffer.insert({ obs: [1, 2, 3, 4], action: 1, reward: 0.5, done: 0, next_obs: [2, 3, 4, 5], policy_version: 7 });
    expect(Array.from(buffer.columns.get('next_obs')!.subarray(0, 4))).toEqual([2, 3, 4, 5]);
    expect(buffer.columns.get('policy_version')![0]).toBe(7);
    expect(() => buffer.insert({ obs: [1], action: 1, reward: 0, done: 0, next_obs: [1, 2, 3, 4], policy_version: 1 })).toThrow(
      /needs 4 values, got 1/,
    );
    // A refused insert reserves nothing: readers never wait for a slot that will not be written.
    expect(buffer.counts()).toEqual({ reserved: 1, committed: 1, dropped: 0 });
  });
});
