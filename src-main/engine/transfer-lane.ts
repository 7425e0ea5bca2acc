/**
 * The slots of a plan whose tensors travel with each run, by transfer (direct and grouped
 * plans): no shared memory, only the count of runs a worker may hold at once, lent and
 * taken back like an arena's slots so the pool treats both alike. It counts the bytes each
 * run carries, so the Shared memory page accounts for transfers beside the arenas.
 */
import type { ArenaStats } from './arena.js';

export interface SlotSource {
  readonly available: number;
  acquire(): number | undefined;
  release(slot: number): void;
  stats(): ArenaStats;
}

export class TransferLane implements SlotSource {
  private readonly free: number[] = [];
  private readonly bytesBySlot: number[];
  private usedBytes = 0;
  private highWaterBytes = 0;
  private acquired = 0;

  constructor(
    readonly name: string,
    readonly slots: number,
  ) {
    for (let i = slots - 1; i >= 0; i--) this.free.push(i);
    this.bytesBySlot = new Array<number>(slots).fill(0);
  }

  get available(): number {
    return this.free.length;
  }

  acquire(): number | undefined {
    const slot = this.free.pop();
    if (slot !== undefined) this.acquired++;
    return slot;
  }

  /** The bytes a run in `slot` sends to the thread (its input tensors). */
  setUsed(slot: number, bytes: number): void {
    this.usedBytes += bytes - this.bytesBySlot[slot]!;
    this.bytesBySlot[slot] = bytes;
    if (this.usedBytes > this.highWaterBytes) this.highWaterBytes = this.usedBytes;
  }

  release(slot: number): void {
    this.setUsed(slot, 0);
    this.free.push(slot);
  }

  stats(): ArenaStats {
    return {
      name: this.name,
      kind: 'transfer',
      slots: this.slots,
      slotsInUse: this.slots - this.free.length,
      capacityBytes: 0,
      usedBytes: this.usedBytes,
      highWaterBytes: this.highWaterBytes,
      acquired: this.acquired,
    };
  }
}
