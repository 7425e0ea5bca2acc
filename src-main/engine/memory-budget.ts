/**
 * What serving a version costs in memory, checked against its budget before anything is
 * reserved: at validation (in the updater), at load and at a worker resize (in the pool).
 */
import { servingReservation } from './arena.js';
import { MemoryBudgetError } from './errors.js';
import { movesByTransfer, type ServingPlan } from './signature.js';

/** What serving a plan needs to run: its workers and the batches in flight on each. */
export interface ServingFootprint {
  readonly workers: number;
  readonly maxInflightBatches: number;
  readonly memoryBudgetBytes: number;
}

/** Refuse a plan whose arenas and staging would exceed the budget (MemoryBudgetError, with the figures). */
export function checkMemoryBudget(plan: ServingPlan, footprint: ServingFootprint): void {
  // A plan that moves tensors by transfer reserves nothing: each request's tensors travel with it, in the caller's memory.
  if (movesByTransfer(plan)) return;
  const r = servingReservation(plan, footprint.workers, footprint.maxInflightBatches);
  if (r.totalBytes <= footprint.memoryBudgetBytes) return;
  const detail =
    `${footprint.workers} workers x ${footprint.maxInflightBatches} arena slots x ${plan.maxRows} rows: ` +
    `${(r.arenaBytes / 1024 ** 2).toFixed(1)} MiB of arenas and ${(r.stagingBytes / 1024 ** 2).toFixed(1)} MiB of staging`;
  throw new MemoryBudgetError(r.totalBytes, footprint.memoryBudgetBytes, detail);
}
