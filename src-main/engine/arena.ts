/**
 * Shared-memory arenas where batches are assembled. One SharedArrayBuffer per pool,
 * cut into fixed slots, each large enough for a full batch of every input and output.
 * The main thread is the only writer of the pool's bookkeeping; workers only read
 * inputs from and write outputs into the slot a batch names.
 */
import { dtypeInfo, type TensorData } from './dtypes.js';
import type { PlannedTensor } from './signature.js';

export interface TensorRegion {
  readonly name: string;
  /** Byte offset of the region within a slot. */
  readonly offset: number;
  readonly rowBytes: number;
}

export interface ArenaLayout {
  readonly slotBytes: number;
  readonly slots: number;
  readonly maxRows: number;
  readonly inputs: readonly TensorRegion[];
  readonly outputs: readonly TensorRegion[];
}

export interface ArenaStats {
  name: string;
  /**
   * arena: slots cut into rows (a plan with fixed rows); bytes: slots sized in bytes, each
   * run packing its tensors in (variable shapes; byte-arena.ts); transfer: a lane of 0-byte
   * slots, everything moving by transfer.
   */
  kind: 'arena' | 'bytes' | 'transfer';
  slots: number;
  slotsInUse: number;
  /** Shared memory reserved. */
  capacityBytes: number;
  /** Shared memory the runs in flight hold. */
  usedBytes: number;
  /** Bytes the runs in flight move by transfer instead (tensors a slot cannot hold, strings). */
  transferBytes: number;
  /** The most both together have been at once. */
  highWaterBytes: number;
  /** Runs (batches) the slots were lent to. */
  acquired: number;
  /** Of those, the runs that moved any tensor by transfer. */
  transferRuns: number;
}

/** Slots lent to runs and taken back: an arena's, or a byte arena's (byte-arena.ts); the pool treats both alike. */
export interface SlotSource {
  readonly available: number;
  acquire(): number | undefined;
  release(slot: number): void;
  stats(): ArenaStats;
}

const ALIGN = 64; // cache line: regions never share one

function align(n: number): number {
  return Math.ceil(n / ALIGN) * ALIGN;
}

export function planArena(
  inputs: readonly PlannedTensor[],
  outputs: readonly PlannedTensor[],
  maxRows: number,
  slots: number,
): ArenaLayout {
  let offset = 0;
  const regions = (tensors: readonly PlannedTensor[]) =>
    tensors.map((t) => {
      const rowBytes = t.rowElements * dtypeInfo(t.dtype).bytes;
      const region = { name: t.name, offset, rowBytes };
      offset += align(rowBytes * maxRows);
      return region;
    });
  const inputRegions = regions(inputs);
  const outputRegions = regions(outputs);
  return { slotBytes: Math.max(ALIGN, offset), slots, maxRows, inputs: inputRegions, outputs: outputRegions };
}

export interface ServingReservation {
  /** Arena slots of every worker. */
  readonly arenaBytes: number;
  /** Each worker's private copy of a full batch of inputs (onnxruntime refuses shared memory). */
  readonly stagingBytes: number;
  readonly totalBytes: number;
}

/** How many slots each worker's arena has, and how large a byte arena's slots are (a plan with variable shapes). */
export interface ArenaSizing {
  readonly slotsPerWorker: number;
  readonly variableSlotBytes: number;
}

/** What serving a plan reserves over `workers` workers. */
export function servingReservation(
  plan: { readonly inputs: readonly PlannedTensor[]; readonly outputs: readonly PlannedTensor[]; readonly maxRows: number },
  workers: number,
  sizing: ArenaSizing,
): ServingReservation {
  const layout = planArena(plan.inputs, plan.outputs, plan.maxRows, sizing.slotsPerWorker);
  const arenaBytes = layout.slotBytes * sizing.slotsPerWorker * workers;
  let stagingRowBytes = 0;
  for (const t of plan.inputs) stagingRowBytes += t.rowElements * dtypeInfo(t.dtype).bytes;
  const stagingBytes = stagingRowBytes * plan.maxRows * workers;
  return { arenaBytes, stagingBytes, totalBytes: arenaBytes + stagingBytes };
}

/** What serving a plan with variable shapes reserves: each worker's byte slots, and one slot's private copy to stage a run in. */
export function packedReservation(workers: number, sizing: ArenaSizing): ServingReservation {
  const arenaBytes = sizing.variableSlotBytes * sizing.slotsPerWorker * workers;
  const stagingBytes = sizing.variableSlotBytes * workers;
  return { arenaBytes, stagingBytes, totalBytes: arenaBytes + stagingBytes };
}

/** Typed views of one slot's regions, built once per slot and reused for every batch. */
export function slotViews(
  sab: SharedArrayBuffer,
  layout: ArenaLayout,
  slot: number,
  tensors: readonly PlannedTensor[],
  regions: readonly TensorRegion[],
): TensorData[] {
  return tensors.map((t, i) => {
    const info = dtypeInfo(t.dtype);
    const region = regions[i]!;
    return new info.ctor(sab, slot * layout.slotBytes + region.offset, t.rowElements * layout.maxRows);
  });
}

/** The slots an arena lends, one run at a time each: the last released is lent first (its memory is warm). */
export class FreeSlots {
  private readonly free: number[] = [];
  private lent = 0;

  constructor(readonly count: number) {
    for (let i = count - 1; i >= 0; i--) this.free.push(i);
  }

  get available(): number {
    return this.free.length;
  }

  get inUse(): number {
    return this.count - this.free.length;
  }

  /** Slots lent since the arena was made. */
  get acquired(): number {
    return this.lent;
  }

  acquire(): number | undefined {
    const slot = this.free.pop();
    if (slot !== undefined) this.lent++;
    return slot;
  }

  release(slot: number): void {
    this.free.push(slot);
  }
}

export class ArenaPool implements SlotSource {
  readonly sab: SharedArrayBuffer;
  private readonly slots: FreeSlots;
  private readonly usedBySlot: Float64Array;
  private usedBytes = 0;
  private highWaterBytes = 0;

  constructor(
    readonly name: string,
    readonly layout: ArenaLayout,
  ) {
    this.sab = new SharedArrayBuffer(layout.slotBytes * layout.slots);
    this.usedBySlot = new Float64Array(layout.slots);
    this.slots = new FreeSlots(layout.slots);
  }

  get available(): number {
    return this.slots.available;
  }

  acquire(): number | undefined {
    return this.slots.acquire();
  }

  /** Record how many bytes of the slot the batch occupies. */
  setUsed(slot: number, rows: number): void {
    let bytes = 0;
    for (const r of this.layout.inputs) bytes += r.rowBytes * rows;
    for (const r of this.layout.outputs) bytes += r.rowBytes * rows;
    this.usedBytes += bytes - this.usedBySlot[slot]!;
    this.usedBySlot[slot] = bytes;
    if (this.usedBytes > this.highWaterBytes) this.highWaterBytes = this.usedBytes;
  }

  release(slot: number): void {
    this.usedBytes -= this.usedBySlot[slot]!;
    this.usedBySlot[slot] = 0;
    this.slots.release(slot);
  }

  stats(): ArenaStats {
    return {
      name: this.name,
      kind: 'arena',
      slots: this.layout.slots,
      slotsInUse: this.slots.inUse,
      capacityBytes: this.sab.byteLength,
      usedBytes: this.usedBytes,
      transferBytes: 0,
      highWaterBytes: this.highWaterBytes,
      acquired: this.slots.acquired,
      transferRuns: 0,
    };
  }
}
