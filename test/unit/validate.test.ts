import { describe, expect, it } from 'vitest';
import { InvalidInputError, type InvalidInputKind } from '../../src-main/engine/errors.js';
import type { ServingPlan } from '../../src-main/engine/signature.js';
import { validateInputs } from '../../src-main/engine/validate.js';

const plan: ServingPlan = {
  mode: 'dynamic',
  maxRows: 8,
  fixedBatch: undefined,
  inputs: [
    { name: 'obs', dtype: 'float32', rowShape: [2, 3], rowElements: 6 },
    { name: 'mask', dtype: 'bool', rowShape: [4], rowElements: 4 },
  ],
  outputs: [{ name: 'y', dtype: 'float32', rowShape: [1], rowElements: 1 }],
};

const unbatched: ServingPlan = { ...plan, mode: 'unbatched', maxRows: 1, fixedBatch: 1 };

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
