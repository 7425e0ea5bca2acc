import { describe, expect, it } from 'vitest';
import {
  ByteArena,
  inSlot,
  slotExtent,
  slotTensorData,
  transferBytes,
  transferList,
  type RunTensor,
  type SlotTensor,
} from '../../src-main/engine/byte-arena.js';

const fillWith = (value: number) => (target: { fill(v: never): unknown }) => target.fill(value as never);

describe('a byte arena packs each run into its slot', () => {
  it('places tensors one after another at 64-byte boundaries, each filled where it lies', () => {
    const arena = new ByteArena('w0', 2, 256);
    const packer = arena.packer(1);
    const a = packer.pack('a', 'float32', [3], 3, fillWith(1.5));
    const b = packer.pack('b', 'int64', [2], 2, (t) => t.set([BigInt(-7), BigInt(9)] as never));
    expect(a).toMatchObject({ slotOffset: 0, elements: 3 });
    expect(b).toMatchObject({ slotOffset: 64, elements: 2 });
    expect(packer.usedBytes).toBe(80);
    // Slot 1 starts 256 bytes in: the values are there, and slot 0 is untouched.
    const sab = arena.geometry!.sab;
    expect(Array.from(slotTensorData(a as SlotTensor, sab, 256) as Float32Array)).toEqual([1.5, 1.5, 1.5]);
    expect(Array.from(slotTensorData(b as SlotTensor, sab, 256) as BigInt64Array)).toEqual([-7n, 9n]);
    expect(new Uint8Array(sab, 0, 256).every((byte) => byte === 0)).toBe(true);
  });

  it('moves a tensor the slot cannot hold by transfer, in memory of its own, and still packs a smaller one after it', () => {
    const arena = new ByteArena('w0', 1, 128);
    const packer = arena.packer(0);
    const first = packer.pack('first', 'uint8', [10], 10, fillWith(1));
    const big = packer.pack('big', 'float64', [20], 20, fillWith(2));
    const small = packer.pack('small', 'uint16', [4], 4, fillWith(3));
    expect(inSlot(first)).toBe(true);
    expect(inSlot(big)).toBe(false);
    expect(big).toMatchObject({ dims: [20], data: new Float64Array(20).fill(2) });
    expect((big as { data: Float64Array }).data.buffer instanceof SharedArrayBuffer).toBe(false);
    expect(small).toMatchObject({ slotOffset: 64, elements: 4 });
    expect(packer.transferBytes).toBe(160);
    expect(transferList([first, big, small])).toEqual([(big as { data: Float64Array }).data.buffer]);
    expect(transferBytes([first, big, small])).toBe(160);
    expect(slotExtent([first, big, small])).toBe(72);
  });

  it('with 0-byte slots is a lane: nothing reserved, everything by transfer', () => {
    const lane = new ByteArena('w0', 2, 0);
    expect(lane.geometry).toBeUndefined();
    const t = lane.packer(0).pack('x', 'int32', [2], 2, fillWith(4));
    expect(inSlot(t)).toBe(false);
    expect(lane.stats()).toMatchObject({ kind: 'transfer', capacityBytes: 0, slots: 2 });
  });
});

describe('what a byte arena accounts', () => {
  it('counts the bytes in slots and by transfer while a run holds its slot, their peak, and the runs that transferred', () => {
    const arena = new ByteArena('w0', 2, 256);
    expect(arena.stats()).toMatchObject({ kind: 'bytes', capacityBytes: 512, usedBytes: 0, transferBytes: 0, transferRuns: 0 });
    const slot = arena.acquire()!;
    const packer = arena.packer(slot);
    const inputs: RunTensor[] = [
      packer.pack('x', 'float32', [16], 16, fillWith(1)),
      { name: 's', dtype: 'string', dims: [1], data: ['héllo'] },
    ];
    arena.setUsed(slot, inputs);
    expect(arena.stats()).toMatchObject({
      slotsInUse: 1,
      usedBytes: 64,
      transferBytes: 10,
      highWaterBytes: 74,
      acquired: 1,
      transferRuns: 1,
    });

    // The outputs replace the inputs in the slot: the run holds what its outputs take, and counts once.
    const outputs: RunTensor[] = [
      { name: 'y', dtype: 'float32', dims: [2, 2], slotOffset: 0, elements: 4 },
      { name: 'z', dtype: 'uint8', dims: [300], data: new Uint8Array(300) },
    ];
    const views = arena.receive(slot, outputs);
    expect(arena.stats()).toMatchObject({ usedBytes: 16, transferBytes: 300, highWaterBytes: 316, transferRuns: 1 });
    expect((views[0]!.data as Float32Array).buffer).toBe(arena.geometry!.sab);
    expect(views[0]).toMatchObject({ name: 'y', dims: [2, 2] });
    expect(views[1]).toBe(outputs[1]);

    arena.release(slot);
    expect(arena.stats()).toMatchObject({ slotsInUse: 0, usedBytes: 0, transferBytes: 0, highWaterBytes: 316, transferRuns: 1 });

    // A run that stays in its slot is not counted as a transfer.
    const next = arena.acquire()!;
    arena.setUsed(next, [arena.packer(next).pack('x', 'float32', [4], 4, fillWith(0))]);
    arena.release(next);
    expect(arena.stats()).toMatchObject({ acquired: 2, transferRuns: 1 });
  });

  it('lends each slot to one run at a time', () => {
    const arena = new ByteArena('w0', 2, 64);
    const [a, b] = [arena.acquire(), arena.acquire()];
    expect(new Set([a, b])).toEqual(new Set([0, 1]));
    expect(arena.acquire()).toBeUndefined();
    expect(arena.available).toBe(0);
    arena.release(a!);
    expect(arena.acquire()).toBe(a);
  });
});
