import { describe, expect, it } from 'vitest';
import { UnsupportedModelError } from '../../src-main/engine/errors.js';
import { planServing, signatureFromMetadata, signaturesCompatible, type ModelSignature } from '../../src-main/engine/signature.js';

const sig = (inputShape: (number | string)[], outputShape: (number | string)[] = ['N', 4]): ModelSignature =>
  signatureFromMetadata(
    [{ name: 'x', isTensor: true, type: 'float32', shape: inputShape }],
    [{ name: 'y', isTensor: true, type: 'float32', shape: outputShape }],
  );

describe('planServing', () => {
  it('batches dynamically when dim 0 is symbolic', () => {
    const plan = planServing(sig(['N', 8, 2]), 64);
    expect(plan).toMatchObject({ mode: 'dynamic', maxRows: 64, fixedBatch: undefined });
    expect(plan.inputs[0]).toMatchObject({ rowShape: [8, 2], rowElements: 16 });
  });

  it('treats -1 as a dynamic dimension', () => {
    expect(planServing(sig([-1, 8]), 32).mode).toBe('dynamic');
  });

  it('serves a fixed dim 0 unbatched, one request per run', () => {
    expect(planServing(sig([1, 8], [1, 4]), 64)).toMatchObject({ mode: 'unbatched', maxRows: 1, fixedBatch: 1 });
  });

  it('refuses symbolic feature dimensions, scalars and unsupported dtypes', () => {
    expect(() => planServing(sig(['N', 'F']), 8)).toThrow(UnsupportedModelError);
    expect(() => planServing(sig([]), 8)).toThrow(/scalar/);
    expect(() => signatureFromMetadata([{ name: 'x', isTensor: true, type: 'string', shape: ['N'] }], [])).toThrow(UnsupportedModelError);
    expect(() => signatureFromMetadata([{ name: 'x', isTensor: false }], [])).toThrow(/not a tensor/);
  });
});

describe('signaturesCompatible', () => {
  it('accepts the same names, dtypes and ranks', () => {
    expect(signaturesCompatible(sig(['N', 8]), sig(['batch', 8]))).toBeUndefined();
  });

  it('names the first breaking difference', () => {
    expect(signaturesCompatible(sig(['N', 8]), sig(['N', 9]))).toMatch(/dim 1 changed from 8 to 9/);
    expect(signaturesCompatible(sig(['N', 8]), sig(['N', 8, 1]))).toMatch(/rank changed/);
    const renamed: ModelSignature = { ...sig(['N', 8]), inputs: [{ name: 'z', dtype: 'float32', shape: ['N', 8] }] };
    expect(signaturesCompatible(sig(['N', 8]), renamed)).toMatch(/renamed/);
    const retyped: ModelSignature = { ...sig(['N', 8]), outputs: [{ name: 'y', dtype: 'float64', shape: ['N', 4] }] };
    expect(signaturesCompatible(sig(['N', 8]), retyped)).toMatch(/output "y" dtype changed/);
  });
});
