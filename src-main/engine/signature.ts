/**
 * A model's signature (input and output names, dtypes, shapes) as onnxruntime reports
 * it, and the serving plan the engine derives from it: whether dim 0 is a dynamic
 * batch dimension or a fixed one, and the size of one row of each tensor.
 */
import { MAX_BATCH_ROWS } from './config.js';
import { isDType, type DType } from './dtypes.js';
import { UnsupportedModelError } from './errors.js';

export type DimSpec = number | string;

export interface TensorSpec {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly DimSpec[];
}

export interface ModelSignature {
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
}

/** What ORT's inputMetadata/outputMetadata look like once they have crossed postMessage. */
export interface RawValueMetadata {
  readonly name: string;
  readonly isTensor: boolean;
  readonly type?: string;
  readonly shape?: readonly (number | string)[];
}

export interface PlannedTensor {
  readonly name: string;
  readonly dtype: DType;
  /** Shape without the batch dimension. */
  readonly rowShape: readonly number[];
  /** Elements in one row (product of rowShape). */
  readonly rowElements: number;
}

export interface ServingPlan {
  /** dynamic: requests are concatenated along dim 0; unbatched: one request per run. */
  readonly mode: 'dynamic' | 'unbatched';
  /** Rows in one run at most (the fixed batch size when unbatched). */
  readonly maxRows: number;
  /** The fixed size of dim 0 when unbatched. */
  readonly fixedBatch: number | undefined;
  readonly inputs: readonly PlannedTensor[];
  readonly outputs: readonly PlannedTensor[];
}

function toSpec(meta: RawValueMetadata, kind: 'input' | 'output'): TensorSpec {
  if (!meta.isTensor || meta.type === undefined || meta.shape === undefined) {
    throw new UnsupportedModelError(`${kind} "${meta.name}" is not a tensor`);
  }
  if (!isDType(meta.type)) {
    throw new UnsupportedModelError(`${kind} "${meta.name}" has dtype ${meta.type}, which the engine does not serve`);
  }
  return { name: meta.name, dtype: meta.type, shape: meta.shape.map((d) => (typeof d === 'number' && d < 0 ? 'dynamic' : d)) };
}

export function signatureFromMetadata(inputs: readonly RawValueMetadata[], outputs: readonly RawValueMetadata[]): ModelSignature {
  return { inputs: inputs.map((m) => toSpec(m, 'input')), outputs: outputs.map((m) => toSpec(m, 'output')) };
}

function rowOf(spec: TensorSpec, kind: string): PlannedTensor {
  if (spec.shape.length === 0) {
    throw new UnsupportedModelError(`${kind} "${spec.name}" is a scalar; the engine needs a batch dimension (dim 0)`);
  }
  const rowShape = spec.shape.slice(1).map((d, i) => {
    if (typeof d !== 'number') {
      throw new UnsupportedModelError(
        `${kind} "${spec.name}" has a symbolic dimension "${d}" at position ${i + 1}; only dim 0 may be dynamic`,
      );
    }
    return d;
  });
  return { name: spec.name, dtype: spec.dtype, rowShape, rowElements: rowShape.reduce((a, b) => a * b, 1) };
}

export function planServing(signature: ModelSignature, maxBatchSize: number): ServingPlan {
  if (signature.inputs.length === 0) throw new UnsupportedModelError('the model has no inputs');
  const inputs = signature.inputs.map((s) => rowOf(s, 'input'));
  const outputs = signature.outputs.map((s) => rowOf(s, 'output'));
  const batchDims = signature.inputs.map((s) => s.shape[0]!);
  const fixed = batchDims.filter((d): d is number => typeof d === 'number');
  if (fixed.length > 0 && fixed.length < batchDims.length) {
    throw new UnsupportedModelError('some inputs have a fixed dim 0 and others a dynamic one');
  }
  if (fixed.length > 0) {
    const size = fixed[0]!;
    if (fixed.some((d) => d !== size)) throw new UnsupportedModelError('inputs disagree on the fixed batch size');
    if (size > MAX_BATCH_ROWS)
      throw new UnsupportedModelError(`dim 0 is fixed at ${size} rows, over the limit of ${MAX_BATCH_ROWS} rows per run`);
    return { mode: 'unbatched', maxRows: size, fixedBatch: size, inputs, outputs };
  }
  return { mode: 'dynamic', maxRows: maxBatchSize, fixedBatch: undefined, inputs, outputs };
}

/** Same names, dtypes and ranks, in the same order: what a hot swap must keep. */
export function signaturesCompatible(a: ModelSignature, b: ModelSignature): string | undefined {
  const compare = (x: readonly TensorSpec[], y: readonly TensorSpec[], kind: string): string | undefined => {
    if (x.length !== y.length) return `${kind} count changed from ${x.length} to ${y.length}`;
    for (let i = 0; i < x.length; i++) {
      const p = x[i]!;
      const q = y[i]!;
      if (p.name !== q.name) return `${kind} ${i} renamed from "${p.name}" to "${q.name}"`;
      if (p.dtype !== q.dtype) return `${kind} "${p.name}" dtype changed from ${p.dtype} to ${q.dtype}`;
      if (p.shape.length !== q.shape.length) return `${kind} "${p.name}" rank changed from ${p.shape.length} to ${q.shape.length}`;
      for (let d = 1; d < p.shape.length; d++) {
        if (p.shape[d] !== q.shape[d]) return `${kind} "${p.name}" dim ${d} changed from ${p.shape[d]} to ${q.shape[d]}`;
      }
    }
    return undefined;
  };
  return compare(a.inputs, b.inputs, 'input') ?? compare(a.outputs, b.outputs, 'output');
}
