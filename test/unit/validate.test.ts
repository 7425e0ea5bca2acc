import { describe, expect, it } from 'vitest';
import { InvalidInputError, type InvalidInputKind } from '../../src-main/engine/errors.js';
import type { DirectPlan, GroupedPlan, RowPlan } from '../../src-main/engine/signature.js';
import { validateInputs } from '../../src-main/engine/validate.js';

const plan: RowPlan = {
  mode: 'dynamic',
  maxRows: 8,
  fixedBatch: undefined,
  inputs: [
    { name: 'obs', dtype: 'float32', rowShape: [2, 3], rowElements: 6 },
    { name: 'mask', dtype: 'bool', rowShape: [4], rowElements: 4 },
  ],
  outputs: [{ name: 'y', dtype: 'float32', rowShape: [1], rowElements: 1 }],
  decision: { batched: true, mode: 'dim0', reason: 'test', evidence: null },
};

const unbatched: RowPlan = { ...plan, mode: 'unbatched', maxRows: 1, fixedBatch: 1 };

const good = (rows = 2) => ({
  obs: { data: new Float32Array(rows * 6), dims: [rows, 2, 3] },
  mask: { data: new Uint8Array(rows * 4), dims: [rows, 4], dtype: 'bool' as const },
});

function kindOf(fn: () => unknown): InvalidInputKind {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    return (error as InvalidInputError).kind;
  }
  throw new Error('expected an InvalidInputError');
}

describe('validateInputs', () => {
  it('accepts a matching request and returns inputs in plan order with the row count', () => {
    const inputs = good(3);
    const result = validateInputs(plan, { mask: inputs.mask, obs: inputs.obs }, true);
    expect(result.rows).toBe(3);
    expect(result.data[0]).toBe(inputs.obs.data);
    expect(result.data[1]).toBe(inputs.mask.data);
  });

  const cases: [InvalidInputKind, () => unknown][] = [
    ['not_an_object', () => validateInputs(plan, null, false)],
    ['not_an_object', () => validateInputs(plan, [good()], false)],
    ['unknown_input', () => validateInputs(plan, { ...good(), extra: good().obs }, false)],
    ['missing_input', () => validateInputs(plan, { obs: good().obs }, false)],
    ['not_a_tensor', () => validateInputs(plan, { ...good(), obs: { data: [1, 2, 3], dims: [1, 2, 3] } }, false)],
    ['not_a_tensor', () => validateInputs(plan, { ...good(), obs: 'tensor' }, false)],
    ['dtype', () => validateInputs(plan, { ...good(), obs: { data: new Float64Array(12), dims: [2, 2, 3] } }, false)],
    ['dtype', () => validateInputs(plan, { ...good(), mask: { data: new Uint8Array(8), dims: [2, 4], dtype: 'uint8' } }, false)],
    ['rank', () => validateInputs(plan, { ...good(), obs: { data: new Float32Array(12), dims: [2, 6] } }, false)],
    ['dim', () => validateInputs(plan, { ...good(), obs: { data: new Float32Array(12), dims: [2, 3, 2] } }, false)],
    ['dim', () => validateInputs(plan, { ...good(), obs: { data: new Float32Array(12), dims: [2.5, 2, 3] } }, false)],
    ['dim', () => validateInputs(unbatched, good(2), false)],
    ['element_count', () => validateInputs(plan, { ...good(), obs: { data: new Float32Array(11), dims: [2, 2, 3] } }, false)],
    ['batch_mismatch', () => validateInputs(plan, { ...good(2), mask: good(3).mask }, false)],
    ['batch_too_large', () => validateInputs(plan, good(9), false)],
    ['empty_batch', () => validateInputs(plan, good(0), false)],
    ['non_finite', () => validateInputs(plan, { ...good(), obs: { data: new Float32Array(12).fill(Number.NaN), dims: [2, 2, 3] } }, true)],
    ['non_finite', () => validateInputs(plan, { ...good(), obs: { data: new Float32Array(12).fill(Infinity), dims: [2, 2, 3] } }, true)],
  ];

  it.each(cases)('rejects with kind %s', (kind, fn) => {
    expect(kindOf(fn)).toBe(kind);
  });

  it('lets NaN through when the finite check is off', () => {
    const inputs = { ...good(), obs: { data: new Float32Array(12).fill(Number.NaN), dims: [2, 2, 3] } };
    expect(validateInputs(plan, inputs, false).rows).toBe(2);
  });

  it('names the input and the expectation in the message', () => {
    expect(() => validateInputs(plan, { ...good(), obs: { data: new Float32Array(12), dims: [2, 3, 2] } }, false)).toThrow(
      'input "obs": dim 1 must be 2, got 3',
    );
  });
});

/** One request per run, shapes as declared: a sequence with a symbolic length, a scalar, strings. */
const direct: DirectPlan = {
  mode: 'direct',
  maxRows: 1,
  fixedBatch: undefined,
  inputs: [
    { name: 'tokens', dtype: 'float32', shape: ['batch', 'seq', 3] },
    { name: 'temperature', dtype: 'float16', shape: [] },
    { name: 'labels', dtype: 'string', shape: [2] },
  ],
  outputs: [{ name: 'y', dtype: 'float32', shape: ['batch', 'seq'] }],
  decision: { batched: false, mode: 'auto', reason: 'test', evidence: null },
};

const directGood = (seq = 5) => ({
  tokens: { data: new Float32Array(2 * seq * 3), dims: [2, seq, 3] },
  temperature: { data: new Uint16Array([0x3c00]), dims: [], dtype: 'float16' as const },
  labels: { data: ['a', 'b'], dims: [2] },
});

describe('validateInputs, one request per run', () => {
  it("takes any length of a symbolic dim, scalars and strings, and keeps each input's dims", () => {
    const ok = validateInputs(direct, directGood(7), true);
    expect(ok.rows).toBe(1);
    expect(ok.dims).toEqual([[2, 7, 3], [], [2]]);
    expect(validateInputs(direct, directGood(0), false).dims![0]).toEqual([2, 0, 3]);
  });

  it('checks rank, fixed dims, counts, dtypes and finite float16 values, naming the input', () => {
    const bad = (patch: Record<string, unknown>, finite = false) =>
      kindOf(() => validateInputs(direct, { ...directGood(), ...patch }, finite));
    expect(bad({ tokens: { data: new Float32Array(30), dims: [2, 5, 3, 1] } })).toBe('rank');
    expect(bad({ tokens: { data: new Float32Array(20), dims: [2, 5, 2] } })).toBe('dim');
    expect(bad({ tokens: { data: new Float32Array(29), dims: [2, 5, 3] } })).toBe('element_count');
    expect(bad({ labels: { data: ['a', 3], dims: [2] } })).toBe('dtype');
    expect(bad({ labels: { data: new Uint8Array(2), dims: [2] } })).toBe('dtype');
    expect(bad({ labels: { data: 'ab', dims: [2] } })).toBe('not_a_tensor');
    expect(bad({ temperature: { data: new Uint16Array([1]), dims: [], dtype: 'uint16' } })).toBe('dtype');
    expect(bad({ temperature: { data: new Uint16Array([0x7c00]), dims: [], dtype: 'float16' } }, true)).toBe('non_finite');
    expect(bad({ tokens: { data: new Float32Array(0), dims: [2, -1, 3] } })).toBe('dim');
    expect(() => validateInputs(direct, { ...directGood(), labels: { data: ['a'], dims: [1] } }, false)).toThrow(
      /labels.*dim 0 is fixed at 2 by the model, got 1/,
    );
  });
});

describe('validateInputs, batched by shape group', () => {
  const grouped: GroupedPlan = {
    mode: 'grouped',
    maxRows: 4,
    fixedBatch: undefined,
    inputs: [
      { name: 'tokens', dtype: 'float32', shape: ['N', 'S', 3] },
      { name: 'mask', dtype: 'bool', shape: ['N', 'S'] },
    ],
    outputs: [{ name: 'y', dtype: 'float32', shape: ['N', 3] }],
    decision: { batched: true, mode: 'dim0', reason: 'test', evidence: null },
  };
  const request = (rows: number, steps: number, maskRows = rows) => ({
    tokens: { data: new Float32Array(rows * steps * 3), dims: [rows, steps, 3] },
    mask: { data: new Uint8Array(maskRows * steps), dims: [maskRows, steps], dtype: 'bool' as const },
  });

  it('keys each request by its shape past dim 0, and counts its rows', () => {
    const a = validateInputs(grouped, request(2, 5), false);
    expect(a).toMatchObject({
      rows: 2,
      dims: [
        [2, 5, 3],
        [2, 5],
      ],
    });
    expect(validateInputs(grouped, request(1, 5), false).group).toBe(a.group);
    expect(validateInputs(grouped, request(2, 6), false).group).not.toBe(a.group);
  });

  it('holds dim 0 to the batch rules: not empty, not over the maximum, the same for every input', () => {
    expect(kindOf(() => validateInputs(grouped, request(0, 5), false))).toBe('empty_batch');
    expect(kindOf(() => validateInputs(grouped, request(5, 5), false))).toBe('batch_too_large');
    expect(kindOf(() => validateInputs(grouped, request(2, 5, 3), false))).toBe('batch_mismatch');
    expect(
      kindOf(() => validateInputs(grouped, { ...request(2, 5), tokens: { data: new Float32Array(20), dims: [2, 5, 2] } }, false)),
    ).toBe('dim');
  });
});
