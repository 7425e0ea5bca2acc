/**
 * The slots of a direct plan: no shared memory (its tensors travel with each run, by
 * transfer), only the count of runs a worker may hold at once, lent and taken back like
 * an arena's slots so the pool treats both alike.
 */
export interface SlotSource {
  readonly available: number;
  acquire(): number | undefined;
  release(slot: number): void;
}

export class TransferLane implements SlotSource {
  private readonly free: number[] = [];

  constructor(readonly slots: number) {
    for (let i = slots - 1; i >= 0; i--) this.free.push(i);
  }

  get available(): number {
    return this.free.length;
  }

  acquire(): number | undefined {
    return this.free.pop();
  }

  release(slot: number): void {
    this.free.push(slot);
  }
}
