/**
 * Shared-memory slots sized in bytes, for plans whose shapes vary from run to run (direct
 * and grouped plans), where no slot can be cut into rows ahead of time. A run packs each
 * numeric tensor it can into its slot, one after another at 64-byte boundaries; a tensor
 * the slot cannot hold, and every string tensor, moves by transfer instead. The worker
 * stages the inputs in private memory (onnxruntime refuses shared memory) and then packs
 * the outputs into the same slot, whose sizes it learns only from the run. Slots of 0
 * bytes make a lane that moves everything by transfer.
 *
 * The main thread owns the bookkeeping; the worker only reads and writes the slot a run
 * names, and both sides pack with the same SlotPacker.
 */
import { FreeSlots, type ArenaStats, type SlotSource } from './arena.js';
import { dtypeInfo, type NumericDType, type TensorData } from './dtypes.js';
import type { WireTensor } from './worker/protocol.js';

/** A tensor of a run that lies in the run's slot. */
export interface SlotTensor {
  readonly name: string;
  readonly dtype: NumericDType;
  readonly dims: readonly number[];
  /** Bytes from the start of the slot. */
  readonly slotOffset: number;
  readonly elements: number;
}

/** A tensor of a run: in its slot, or carried in the message with its buffer transferred. */
export type RunTensor = SlotTensor | WireTensor;

export function inSlot(tensor: RunTensor): tensor is SlotTensor {
  return 'slotOffset' in tensor;
}

/** The memory a byte arena's slots live in, as both threads see it. */
export interface SlotGeometry {
  readonly sab: SharedArrayBuffer;
  readonly slotBytes: number;
}

const ALIGN = 64; // a cache line: tensors never share one, and every element type is aligned

/** Hands out a slot's bytes in order, to one run's tensors. */
export class SlotPacker {
  private next = 0;
  /** Bytes of the tensors that did not fit, and go by transfer. */
  transferBytes = 0;

  constructor(
    private readonly geometry: SlotGeometry | undefined,
    private readonly slot: number,
  ) {}

  /** Bytes of the slot the tensors packed so far occupy. */
  get usedBytes(): number {
    return this.next;
  }

  /**
   * Room for `elements` of `dtype`, filled by `fill`: in the slot when it still holds them,
   * otherwise in an array of its own that moves by transfer.
   */
  pack(name: string, dtype: NumericDType, dims: readonly number[], elements: number, fill: (target: TensorData) => void): RunTensor {
    const info = dtypeInfo(dtype);
    const bytes = elements * info.bytes;
    const slotOffset = Math.ceil(this.next / ALIGN) * ALIGN;
    if (this.geometry && slotOffset + bytes <= this.geometry.slotBytes) {
      fill(new info.ctor(this.geometry.sab, this.slot * this.geometry.slotBytes + slotOffset, elements));
      this.next = slotOffset + bytes;
      return { name, dtype, dims, slotOffset, elements };
    }
    const data = new info.ctor(elements);
    fill(data);
    this.transferBytes += bytes;
    return { name, dtype, dims, data };
  }
}

/** A slot tensor's elements as a view of `buffer` laid out as the slot is (the slot itself, or a private copy of it). */
export function slotTensorData(tensor: SlotTensor, buffer: ArrayBufferLike, slotStart: number): TensorData {
  return new (dtypeInfo(tensor.dtype).ctor)(buffer, slotStart + tensor.slotOffset, tensor.elements);
}

/** Bytes of a slot that `tensors` reach to (0 when none lies in it). */
export function slotExtent(tensors: readonly RunTensor[]): number {
  let end = 0;
  for (const t of tensors) if (inSlot(t)) end = Math.max(end, t.slotOffset + t.elements * dtypeInfo(t.dtype).bytes);
  return end;
}

/** The buffers a message carrying `tensors` transfers: those of the tensors not in a slot. */
export function transferList(tensors: readonly RunTensor[] | undefined): ArrayBuffer[] {
  const list: ArrayBuffer[] = [];
  for (const t of tensors ?? []) if (!inSlot(t) && ArrayBuffer.isView(t.data)) list.push(t.data.buffer as ArrayBuffer);
  return list;
}

/** What a run carries by transfer: the bytes of its typed arrays, and for strings their UTF-16 length (an estimate). */
export function transferBytes(tensors: readonly RunTensor[]): number {
  let total = 0;
  for (const t of tensors) {
    if (inSlot(t)) continue;
    total += Array.isArray(t.data) ? t.data.reduce((n, v) => n + v.length * 2, 0) : t.data.byteLength;
  }
  return total;
}

export class ByteArena implements SlotSource {
  /** Undefined for a lane of 0-byte slots (everything by transfer). */
  readonly geometry: SlotGeometry | undefined;
  private readonly lending: FreeSlots;
  private readonly slotBytesUsed: number[];
  private readonly transferBytesUsed: number[];
  private readonly transferredBySlot: boolean[];
  private usedBytes = 0;
  private inTransit = 0;
  private highWaterBytes = 0;
  private transferRuns = 0;

  constructor(
    readonly name: string,
    readonly slots: number,
    slotBytes: number,
  ) {
    this.geometry = slotBytes > 0 ? { sab: new SharedArrayBuffer(slotBytes * slots), slotBytes } : undefined;
    this.lending = new FreeSlots(slots);
    this.slotBytesUsed = new Array<number>(slots).fill(0);
    this.transferBytesUsed = new Array<number>(slots).fill(0);
    this.transferredBySlot = new Array<boolean>(slots).fill(false);
  }

  get available(): number {
    return this.lending.available;
  }

  acquire(): number | undefined {
    return this.lending.acquire();
  }

  /** A packer for the inputs of the run about to be sent in `slot`. */
  packer(slot: number): SlotPacker {
    return new SlotPacker(this.geometry, slot);
  }

  /** What a run in `slot` holds of the slot and sends by transfer (its inputs, then its outputs). */
  setUsed(slot: number, tensors: readonly RunTensor[]): void {
    const inSlotBytes = slotExtent(tensors);
    const moved = transferBytes(tensors);
    if (!this.transferredBySlot[slot] && tensors.some((t) => !inSlot(t))) {
      this.transferredBySlot[slot] = true;
      this.transferRuns++;
    }
    this.usedBytes += inSlotBytes - this.slotBytesUsed[slot]!;
    this.inTransit += moved - this.transferBytesUsed[slot]!;
    this.slotBytesUsed[slot] = inSlotBytes;
    this.transferBytesUsed[slot] = moved;
    this.highWaterBytes = Math.max(this.highWaterBytes, this.usedBytes + this.inTransit);
  }

  /**
   * A finished run's outputs with their elements: a view of the slot for those in it (valid
   * until the slot is released, so they are copied or consumed before), the rest as sent.
   */
  receive(slot: number, outputs: readonly RunTensor[]): WireTensor[] {
    this.setUsed(slot, outputs);
    return outputs.map((t) => {
      if (!inSlot(t)) return t;
      const data = slotTensorData(t, this.geometry!.sab, slot * this.geometry!.slotBytes); // only a slot's arena packs into a slot
      return { name: t.name, dtype: t.dtype, dims: t.dims, data };
    });
  }

  release(slot: number): void {
    this.usedBytes -= this.slotBytesUsed[slot]!;
    this.inTransit -= this.transferBytesUsed[slot]!;
    this.slotBytesUsed[slot] = 0;
    this.transferBytesUsed[slot] = 0;
    this.transferredBySlot[slot] = false;
    this.lending.release(slot);
  }

  stats(): ArenaStats {
    return {
      name: this.name,
      kind: this.geometry ? 'bytes' : 'transfer',
      slots: this.slots,
      slotsInUse: this.lending.inUse,
      capacityBytes: this.geometry?.sab.byteLength ?? 0,
      usedBytes: this.usedBytes,
      transferBytes: this.inTransit,
      highWaterBytes: this.highWaterBytes,
      acquired: this.lending.acquired,
      transferRuns: this.transferRuns,
    };
  }
}
