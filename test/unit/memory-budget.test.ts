import { checkMemoryBudget } from '../../src-main/engine/memory-budget.js';
import { describe, expect, it } from 'vitest';
import { packedReservation, servingReservation } from '../../src-main/engine/arena.js';
import { DEFAULT_MEMORY_BUDGET_BYTES, MAX_BATCH_ROWS, parseServingConfig } from '../../src-main/engine/config.js';
import { MemoryBudgetError } from '../../src-main/engine/errors.js';
import { isPackedPlan, planServing, type ModelSignature, type RowPlan } from '../../src-main/engine/signature.js';

const identity = (width: number, batch: number | string = 'N'): ModelSignature => ({
  inputs: [{ name: 'x', dtype: 'float32', shape: [batch, width] }],
  outputs: [{ name: 'y', dtype: 'float32', shape: [batch, width] }],
});

/** The plan with rows (these identities are batched along dim 0, as the operator may say). */
function rows(signature: ModelSignature, maxBatchSize: number): RowPlan {
  const plan = planServing(signature, maxBatchSize, { mode: 'dim0' });
  if (isPackedPlan(plan)) throw new Error('expected a plan with rows');
  return plan;
}

const SIZING = { slotsPerWorker: 2, variableSlotBytes: 1024 ** 2 };

describe('memory budget of a model version', () => {
  it('counts every worker: arena slots of inputs and outputs for full batches, plus a staging copy of the inputs', () => {
    const plan = rows(identity(1000), 128);
    const r = servingReservation(plan, 2, SIZING);
    const rowBytes = 1000 * 4;
    // Each region is rounded up to a 64-byte line; 4000 x 128 bytes already is one.
    expect(r.arenaBytes).toBe(2 * 2 * (rowBytes * 128 * 2));
    expect(r.stagingBytes).toBe(2 * rowBytes * 128);
    expect(r.totalBytes).toBe(r.arenaBytes + r.stagingBytes);
  });

  it('refuses an Identity of 4,000,000 floats a row under the default 2 GiB budget, with the figure in the reason', () => {
    const plan = rows(identity(4_000_000), 128);
    const footprint = { workers: 2, maxInflightBatches: 2, variableSlotBytes: 1024 ** 2, memoryBudgetBytes: DEFAULT_MEMORY_BUDGET_BYTES };
    let error: unknown;
    try {
      checkMemoryBudget(plan, footprint);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MemoryBudgetError);
    const e = error as MemoryBudgetError;
    expect(e.code).toBe('MEMORY_BUDGET');
    expect(e.reservedBytes).toBe(servingReservation(plan, 2, SIZING).totalBytes);
    expect(e.message).toMatch(/would reserve 19\.\d\d GiB .*over the budget of 2\.00 GiB/);
    // The same model fits once the batch is small enough.
    expect(() => checkMemoryBudget(rows(identity(4_000_000), 8), { ...footprint, memoryBudgetBytes: 2 ** 40 })).not.toThrow();
  });

  it('takes the budget from the config (default 2 GiB) and checks its range', () => {
    expect(parseServingConfig({}).memoryBudgetBytes).toBe(2 * 1024 ** 3);
    expect(parseServingConfig({ memoryBudgetBytes: 8 * 1024 ** 3 }).memoryBudgetBytes).toBe(8 * 1024 ** 3);
    for (const bad of [0, -1, 1.5, Number.NaN, Infinity, '1GB']) expect(() => parseServingConfig({ memoryBudgetBytes: bad })).toThrow();
  });

  it('serves a fixed dim 0 up to the row limit through an arena, and a larger one as declared in byte slots it budgets', () => {
    expect(rows(identity(4, MAX_BATCH_ROWS), 128)).toMatchObject({ mode: 'unbatched', maxRows: MAX_BATCH_ROWS });
    const large = planServing(identity(4, MAX_BATCH_ROWS + 1), 128, { mode: 'dim0' });
    expect(large.mode).toBe('direct');
    // 64 workers x 8 slots of 1 MiB, plus a slot's staging each: 576 MiB, whatever the shapes.
    const footprint = { workers: 64, maxInflightBatches: 8, variableSlotBytes: 1024 ** 2, memoryBudgetBytes: 576 * 1024 ** 2 };
    expect(packedReservation(64, { slotsPerWorker: 8, variableSlotBytes: 1024 ** 2 })).toEqual({
      arenaBytes: 512 * 1024 ** 2,
      stagingBytes: 64 * 1024 ** 2,
      totalBytes: 576 * 1024 ** 2,
    });
    expect(() => checkMemoryBudget(large, footprint)).not.toThrow();
    expect(() => checkMemoryBudget(large, { ...footprint, memoryBudgetBytes: 576 * 1024 ** 2 - 1 })).toThrow(
      /64 workers x 8 1\.0 MiB slots: 512\.0 MiB of arenas and 64\.0 MiB of staging/,
    );
    // Slots of 0 bytes move everything by transfer and reserve nothing.
    expect(() => checkMemoryBudget(large, { ...footprint, variableSlotBytes: 0, memoryBudgetBytes: 1024 ** 2 })).not.toThrow();
  });
});
