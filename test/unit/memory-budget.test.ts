import { checkMemoryBudget } from '../../src-main/engine/memory-budget.js';
import { describe, expect, it } from 'vitest';
import { servingReservation } from '../../src-main/engine/arena.js';
import { DEFAULT_MEMORY_BUDGET_BYTES, MAX_BATCH_ROWS, parseServingConfig } from '../../src-main/engine/config.js';
import { MemoryBudgetError, UnsupportedModelError } from '../../src-main/engine/errors.js';
import { planServing, type ModelSignature } from '../../src-main/engine/signature.js';

const identity = (width: number, batch: number | string = 'N'): ModelSignature => ({
  inputs: [{ name: 'x', dtype: 'float32', shape: [batch, width] }],
  outputs: [{ name: 'y', dtype: 'float32', shape: [batch, width] }],
});

describe('memory budget of a model version', () => {
  it('counts every worker: arena slots of inputs and outputs for full batches, plus a staging copy of the inputs', () => {
    const plan = planServing(identity(1000), 128);
    const r = servingReservation(plan, 2, 2);
    const rowBytes = 1000 * 4;
    // Each region is rounded up to a 64-byte line; 4000 x 128 bytes already is one.
    expect(r.arenaBytes).toBe(2 * 2 * (rowBytes * 128 * 2));
    expect(r.stagingBytes).toBe(2 * rowBytes * 128);
    expect(r.totalBytes).toBe(r.arenaBytes + r.stagingBytes);
  });

  it('refuses an Identity of 4,000,000 floats a row under the default 2 GiB budget, with the figure in the reason', () => {
    const plan = planServing(identity(4_000_000), 128);
    const footprint = { workers: 2, maxInflightBatches: 2, memoryBudgetBytes: DEFAULT_MEMORY_BUDGET_BYTES };
    let error: unknown;
    try {
      checkMemoryBudget(plan, footprint);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MemoryBudgetError);
    const e = error as MemoryBudgetError;
    expect(e.code).toBe('MEMORY_BUDGET');
    expect(e.reservedBytes).toBe(servingReservation(plan, 2, 2).totalBytes);
    expect(e.message).toMatch(/would reserve 19\.\d\d GiB .*over the budget of 2\.00 GiB/);
    // The same model fits once the batch is small enough.
    expect(() => checkMemoryBudget(planServing(identity(4_000_000), 8), { ...footprint, memoryBudgetBytes: 2 ** 40 })).not.toThrow();
  });

  it('takes the budget from the config (default 2 GiB) and checks its range', () => {
    expect(parseServingConfig({}).memoryBudgetBytes).toBe(2 * 1024 ** 3);
    expect(parseServingConfig({ memoryBudgetBytes: 8 * 1024 ** 3 }).memoryBudgetBytes).toBe(8 * 1024 ** 3);
    for (const bad of [0, -1, 1.5, Number.NaN, Infinity, '1GB']) expect(() => parseServingConfig({ memoryBudgetBytes: bad })).toThrow();
  });

  it('holds a fixed dim 0 to the row limit of maxBatchSize', () => {
    expect(planServing(identity(4, MAX_BATCH_ROWS), 128).maxRows).toBe(MAX_BATCH_ROWS);
    expect(() => planServing(identity(4, MAX_BATCH_ROWS + 1), 128)).toThrow(UnsupportedModelError);
    expect(() => planServing(identity(4, MAX_BATCH_ROWS + 1), 128)).toThrow(/fixed at 4097 rows, over the limit of 4096/);
  });
});
