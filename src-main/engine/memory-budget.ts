/**
 * What serving a version costs in memory, checked against its budget before anything is
 * reserved: at validation (in the updater), at load and at a worker resize (in the pool).
 */
import { packedReservation, servingReservation } from './arena.js';
import { MemoryBudgetError } from './errors.js';
import { isPackedPlan, type ServingPlan } from './signature.js';

/** What serving a plan needs to run: its workers, the batches in flight on each, and the size of a byte arena's slots. */
export interface ServingFootprint {
  readonly workers: number;
  readonly maxInflightBatches: number;
  readonly variableSlotBytes: number;
  readonly memoryBudgetBytes: number;
}

/** Refuse a plan whose arenas and staging would exceed the budget (MemoryBudgetError, with the figures). */
export function checkMemoryBudget(plan: ServingPlan, footprint: ServingFootprint): void {
  const sizing = { slotsPerWorker: footprint.maxInflightBatches, variableSlotBytes: footprint.variableSlotBytes };
  const packed = isPackedPlan(plan);
  // A packed plan's tensors that its slots cannot hold travel in the caller's memory, by transfer: only the slots are reserved.
  const r = packed ? packedReservation(footprint.workers, sizing) : servingReservation(plan, footprint.workers, sizing);
  if (r.totalBytes <= footprint.memoryBudgetBytes) return;
  const slots = packed ? `${(footprint.variableSlotBytes / 1024 ** 2).toFixed(1)} MiB slots` : `arena slots x ${plan.maxRows} rows`;
  const detail =
    `${footprint.workers} workers x ${footprint.maxInflightBatches} ${slots}: ` +
    `${(r.arenaBytes / 1024 ** 2).toFixed(1)} MiB of arenas and ${(r.stagingBytes / 1024 ** 2).toFixed(1)} MiB of staging`;
  throw new MemoryBudgetError(r.totalBytes, footprint.memoryBudgetBytes, detail);
}
