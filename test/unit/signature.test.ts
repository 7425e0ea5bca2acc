import { describe, expect, it } from 'vitest';
import { UnsupportedModelError } from '../../src-main/engine/errors.js';
import {
  needsProbe,
  planServing,
  signatureFromMetadata,
  signaturesCompatible,
  type ModelSignature,
  type ProbeEvidence,
} from '../../src-main/engine/signature.js';

const sig = (inputShape: (number | string)[], outputShape: (number | string)[] = ['N', 4]): ModelSignature =>
  signatureFromMetadata(
    [{ name: 'x', isTensor: true, type: 'float32', shape: inputShape }],
    [{ name: 'y', isTensor: true, type: 'float32', shape: outputShape }],
  );

const DIM0 = { mode: 'dim0' } as const;
const evidence = (rowsIndependent: boolean, extra: Partial<ProbeEvidence> = {}): ProbeEvidence => ({
  rows: 4,
  rowsIndependent,
  exact: rowsIndependent,
  maxAbsDiff: rowsIndependent ? 0 : null,
  tolerance: { absolute: 1e-5, relative: 1e-4 },
  difference: rowsIndependent ? null : 'output "y" row 1 element 0 is 3 with 4 rows, 2 alone',
  error: null,
  ...extra,
});

describe('planServing', () => {
  it('batches along dim 0 when the shapes allow it and the operator says so (dim0)', () => {
    const plan = planServing(sig(['N', 8, 2]), 64, DIM0);
    expect(plan).toMatchObject({ mode: 'dynamic', maxRows: 64, fixedBatch: undefined, decision: { batched: true, mode: 'dim0' } });
    expect(plan.inputs[0]).toMatchObject({ rowShape: [8, 2], rowElements: 16 });
    expect(planServing(sig([-1, 8]), 32, DIM0).mode).toBe('dynamic'); // -1 is dynamic too
  });

  it('in auto, batches only on evidence that rows do not interact, and says why either way', () => {
    expect(() => planServing(sig(['N', 8]), 32, { mode: 'auto' })).toThrow(/needs the probe/);
    expect(needsProbe(sig(['N', 8]), 'auto')).toBe(true);
    const yes = planServing(sig(['N', 8]), 32, { mode: 'auto', evidence: evidence(true) });
    expect(yes.mode).toBe('dynamic');
    expect(yes.decision.reason).toMatch(/4 rows run together gave each row's outputs alone, bit for bit/);
    const no = planServing(sig(['N', 8]), 32, { mode: 'auto', evidence: evidence(false) });
    expect(no.mode).toBe('direct');
    expect(no.decision).toMatchObject({ batched: false, evidence: { rowsIndependent: false } });
    expect(no.decision.reason).toMatch(/rows interact along dim 0: output "y" row 1/);
    const failed = planServing(sig(['N', 8]), 32, {
      mode: 'auto',
      evidence: evidence(false, { difference: null, error: 'index out of range' }),
    });
    expect(failed.decision.reason).toMatch(/the probe could not run it \(index out of range\)/);
  });

  it('batches a model with a symbolic dim past dim 0 by shape group, on the same evidence', () => {
    const sequence = sig(['N', 'S', 4], ['N', 4]);
    expect(needsProbe(sequence, 'auto')).toBe(true);
    const grouped = planServing(sequence, 16, { mode: 'auto', evidence: evidence(true) });
    expect(grouped).toMatchObject({ mode: 'grouped', maxRows: 16, decision: { batched: true } });
    expect(grouped.decision.reason).toMatch(/"x" has a symbolic dim 1 \("S"\), so a request is batched only with requests of its shape/);
    expect(planServing(sequence, 16, DIM0).mode).toBe('grouped');
    expect(planServing(sequence, 16, { mode: 'auto', evidence: evidence(false) }).mode).toBe('direct');
    expect(planServing(sequence, 16, { mode: 'none' }).mode).toBe('direct');
  });

  it('serves a shared fixed dim 0 one request per run through an arena, and none as declared', () => {
    expect(planServing(sig([1, 8], [1, 4]), 64, { mode: 'auto' })).toMatchObject({ mode: 'unbatched', maxRows: 1, fixedBatch: 1 });
    expect(needsProbe(sig([1, 8], [1, 4]), 'auto')).toBe(false);
    const none = planServing(sig(['N', 8]), 64, { mode: 'none' });
    expect(none).toMatchObject({ mode: 'direct', decision: { batched: false } });
    expect(none.decision.reason).toMatch(/batching.mode is "none"/);
  });

  it('serves what no arena can hold as declared, naming what rules batching out', () => {
    const cases: [ModelSignature, RegExp][] = [
      [sig([]), /input "x" is a scalar/],
      [sig(['N', 4], [2, 'K']), /output "y" has a fixed dim 0 \(2\)/],
      [
        signatureFromMetadata(
          [{ name: 's', isTensor: true, type: 'string', shape: ['N'] }],
          [{ name: 'y', isTensor: true, type: 'string', shape: ['N'] }],
        ),
        /input "s" holds strings/,
      ],
    ];
    for (const [signature, reason] of cases) {
      const plan = planServing(signature, 8, { mode: 'auto' });
      expect(plan.mode).toBe('direct');
      expect(plan.decision.reason).toMatch(reason);
    }
    expect(planServing(sig([]), 8, DIM0).decision.reason).toMatch(/cannot be batched although batching.mode is "dim0"/);
    expect(() => signatureFromMetadata([{ name: 'x', isTensor: false }], [])).toThrow(/not a tensor/);
    expect(() => signatureFromMetadata([{ name: 'x', isTensor: true, type: 'complex64', shape: [1] }], [])).toThrow(UnsupportedModelError);
    expect(() => planServing({ inputs: [], outputs: [] }, 8, DIM0)).toThrow(/no inputs/);
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
