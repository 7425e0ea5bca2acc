import { describe, expect, it } from 'vitest';
import {
  concatInputs,
  copyInputs,
  gatherBatch,
  gatherGroup,
  groupedOutputs,
  packRequest,
  scatterOutputs,
  type Batchable,
} from '../../src-main/engine/batch-assembly.js';
import { ByteArena, inSlot, slotTensorData, type RunTensor } from '../../src-main/engine/byte-arena.js';
import type { PlannedTensor } from '../../src-main/engine/signature.js';
import { TensorSource } from '../../src-main/engine/tensor-source.js';

interface Req extends Batchable {
  readonly id: string;
  settled: boolean;
}

const req = (id: string, rows: number, version = 1, first = 0): Req => ({
  id,
  rows,
  version,
  settled: false,
  data: [Float32Array.from({ length: rows * 2 }, (_, i) => first + i)],
});

function queueOf(items: Req[]) {
  return { peek: () => items[0], shift: () => items.shift(), items };
}

const spec: PlannedTensor = { name: 'y', dtype: 'float32', rowShape: [2], rowElements: 2 };

describe('batch assembly', () => {
  it('gathers from the head, first in first out, up to the target rows, one version at a time', () => {
    const q = queueOf([req('a', 2), req('b', 3), req('c', 1), req('d', 1, 2), req('e', 1)]);
    expect(gatherBatch(q, 1, 5).requests.map((r) => r.id)).toEqual(['a', 'b']);
    // c fits, d runs on another version: the batch stops there rather than skip ahead.
    expect(gatherBatch(q, 1, 5)).toMatchObject({ rows: 1, requests: [{ id: 'c' }] });
    expect(q.items.map((r) => r.id)).toEqual(['d', 'e']);
    // The first request always goes, even when larger than the target.
    expect(gatherBatch(queueOf([req('big', 9)]), 1, 4).rows).toBe(9);
  });

  it('copies each request after the previous one into the slot', () => {
    const view = new Float32Array(10);
    copyInputs([view], [req('a', 2, 1, 100), req('b', 1, 1, 200)]);
    expect(Array.from(view)).toEqual([100, 101, 102, 103, 200, 201, 0, 0, 0, 0]);
  });

  it.each([
    ['first', 0],
    ['middle', 1],
    ['last', 2],
  ])('gives every request its own rows when the %s one settled while the batch ran', (_where, settledIndex) => {
    const requests = [req('a', 1), req('b', 2), req('c', 1)];
    requests[settledIndex]!.settled = true;
    // Row r of the output holds [10r, 10r+1]: each request's slice says which rows it got.
    const outputs = [Float32Array.from({ length: 8 }, (_, i) => Math.floor(i / 2) * 10 + (i % 2))];
    const got = new Map<string, number[]>();
    scatterOutputs(outputs, [spec], requests, (r, tensors) => got.set(r.id, Array.from(tensors.y!.data as Float32Array)));
    const expected: Record<string, number[]> = { a: [0, 1], b: [10, 11, 20, 21], c: [30, 31] };
    delete expected[requests[settledIndex]!.id];
    expect(Object.fromEntries(got)).toEqual(expected);
  });

  it('gives each output its dims and dtype', () => {
    const delivered: unknown[] = [];
    scatterOutputs([new Float32Array(4)], [spec], [req('a', 2)], (_r, tensors) => delivered.push(tensors.y));
    expect(delivered).toEqual([{ data: new Float32Array(4), dims: [2, 2], dtype: 'float32' }]);
  });
});

describe('batches grouped by shape', () => {
  interface Grouped extends Req {
    readonly group: string;
    readonly dims: number[][];
  }
  /** A request of `rows` rows whose one input is [rows, steps], valued from `first`. */
  const seq = (id: string, rows: number, steps: number, version = 1, first = 0): Grouped => ({
    id,
    rows,
    version,
    settled: false,
    group: String(steps),
    dims: [[rows, steps]],
    data: [Float32Array.from({ length: rows * steps }, (_, i) => first + i)],
  });
  const scanOf = (items: Grouped[]) => ({
    live: (limit: number) => items.slice(0, limit),
    extract: (item: Grouped) => items.splice(items.indexOf(item), 1).length === 1,
    items,
  });

  it('starts with the oldest request and takes the oldest of its group after it, leaving the others in order', () => {
    const q = scanOf([seq('a3', 1, 3), seq('b5', 1, 5), seq('c3', 2, 3), seq('d3v2', 1, 3, 2), seq('e5', 1, 5), seq('f3', 1, 3)]);
    expect(gatherGroup(q, 8, 100)).toMatchObject({ rows: 4, requests: [{ id: 'a3' }, { id: 'c3' }, { id: 'f3' }] });
    // The next batch starts with the oldest left, of another group: no group waits behind a busier one.
    expect(q.items.map((r) => r.id)).toEqual(['b5', 'd3v2', 'e5']);
    expect(gatherGroup(q, 8, 100).requests.map((r) => r.id)).toEqual(['b5', 'e5']);
    expect(gatherGroup(q, 8, 100).requests.map((r) => r.id)).toEqual(['d3v2']);
  });

  it('stops at the target rows, skips a request that would overflow it, and looks no deeper than the scan limit', () => {
    const q = scanOf([seq('a', 2, 3), seq('big', 4, 3), seq('b', 1, 3), seq('c', 1, 3)]);
    expect(gatherGroup(q, 4, 100).requests.map((r) => r.id)).toEqual(['a', 'b', 'c']);
    const shallow = scanOf([seq('a', 1, 3), seq('x', 1, 5), seq('b', 1, 3)]);
    expect(gatherGroup(shallow, 8, 2).requests.map((r) => r.id)).toEqual(['a']);
  });

  it('stops reading the queue as soon as the batch is full (a deep queue costs a full batch nothing more)', () => {
    const items = Array.from({ length: 50 }, (_, i) => seq(`r${i}`, 1, 3));
    let read = 0;
    const counting = {
      *live(limit: number) {
        for (const item of items.slice(0, limit)) {
          read++;
          yield item;
        }
      },
      extract: (item: Grouped) => items.splice(items.indexOf(item), 1).length === 1,
    };
    expect(gatherGroup(counting, 4, 100).rows).toBe(4);
    expect(read).toBe(4);
  });

  /** A run's packer over slot 0 of a byte arena of `slotBytes`, and a tensor's elements wherever they were packed. */
  function packing(slotBytes: number) {
    const arena = new ByteArena('test', 2, slotBytes);
    const elements = (t: RunTensor) => (inSlot(t) ? slotTensorData(t, arena.geometry!.sab, 0) : t.data);
    return { packer: arena.packer(0), elements };
  }

  it('concatenates a group along dim 0 into its slot, and splits outputs back along dim 0 only', () => {
    const requests = [seq('a', 1, 2, 1, 10), seq('b', 2, 2, 1, 20)];
    const { packer, elements } = packing(1024);
    const [x] = concatInputs([{ name: 'x', dtype: 'float32' }], requests, 3, packer);
    expect(x!.dims).toEqual([3, 2]);
    expect(inSlot(x!)).toBe(true);
    expect(Array.from(elements(x!) as Float32Array)).toEqual([10, 11, 20, 21, 22, 23]);
    const y = { name: 'y', dtype: 'float32' as const, dims: [3, 2, 1], data: new Float32Array([1, 2, 3, 4, 5, 6]) };
    const split = groupedOutputs([y], 3);
    expect(split).toMatchObject({ specs: [{ name: 'y', rowShape: [2, 1], rowElements: 2 }] });
    expect(groupedOutputs([{ ...y, dims: [1, 6] }], 3)).toBe('output "y" has dim 0 of 1 for a batch of 3 rows');
    expect(groupedOutputs([{ name: 's', dtype: 'string', dims: [3], data: ['a', 'b', 'c'] }], 3)).toBe(
      'output "s" holds strings, which a batched plan cannot split',
    );
  });

  it('copies an input given as a source (a client region) straight into its place in the batch', () => {
    class Counting extends TensorSource {
      readonly dtype = 'float32' as const;
      readonly targets: number[] = [];
      constructor(
        readonly length: number,
        private readonly first: number,
      ) {
        super();
      }
      copyTo(target: Float32Array): void {
        this.targets.push(target.length);
        for (let i = 0; i < target.length; i++) target[i] = this.first + i;
      }
    }
    const source = new Counting(4, 50);
    const fromRegion = { ...seq('b', 2, 2, 1, 0), data: [source] };
    const requests = [seq('a', 1, 2, 1, 10), fromRegion, seq('c', 1, 2, 1, 30), seq('d', 1, 2, 1, 40)];
    // A slot too small for the batch: the same copies go into new memory, moved by transfer.
    const { packer, elements } = packing(16);
    const [x] = concatInputs([{ name: 'x', dtype: 'float32' }], requests, 5, packer);
    expect(inSlot(x!)).toBe(false);
    expect(packer.transferBytes).toBe(40);
    expect(Array.from(elements(x!) as Float32Array)).toEqual([10, 11, 50, 51, 52, 53, 30, 31, 40, 41]);
    expect(source.targets).toEqual([4]); // read once, into exactly its rows
  });

  it("packs a direct request's numeric inputs into the slot and passes its strings as they are", () => {
    const { packer, elements } = packing(1024);
    const strings = ['a', 'bc'];
    const request = { version: 1, rows: 1, settled: false, data: [new Int32Array([7, 8, 9]), strings], dims: [[3], [2]] };
    const [n, s] = packRequest(
      [
        { name: 'n', dtype: 'int32' },
        { name: 's', dtype: 'string' },
      ],
      request,
      packer,
    );
    expect(n).toMatchObject({ name: 'n', dtype: 'int32', dims: [3], slotOffset: 0, elements: 3 });
    expect(Array.from(elements(n!) as Int32Array)).toEqual([7, 8, 9]);
    expect(s).toEqual({ name: 's', dtype: 'string', dims: [2], data: strings });
    expect(request.data[0]).toEqual(new Int32Array([7, 8, 9])); // the caller's array is untouched, for a retry
  });

  it('refuses to put strings into a numeric batch (a plan that did would be a bug, not a request to answer)', () => {
    const strings = { ...seq('s', 1, 2), data: [['a', 'b']] };
    expect(() => concatInputs([{ name: 'x', dtype: 'float32' }], [strings], 1, packing(1024).packer)).toThrow(
      'strings never go into an arena (a row plan is numeric)',
    );
  });
});
