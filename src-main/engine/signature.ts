/**
 * A model's signature (input and output names, dtypes, shapes) as onnxruntime reports
 * it, and the serving plan the engine derives from it: batched along dim 0 (only on
 * evidence unless the operator says so), one request per run with fixed rows, or one
 * request per run with shapes as declared.
 */
import { MAX_BATCH_ROWS } from './config.js';
import { isDType, isNumericDType, type DType, type NumericDType } from './dtypes.js';
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
  readonly dtype: NumericDType;
  /** Shape without the batch dimension. */
  readonly rowShape: readonly number[];
  /** Elements in one row (product of rowShape). */
  readonly rowElements: number;
}

/**
 * How a model's requests are run, as the config asks: `auto` batches along dim 0 only on
 * evidence (the probe), `dim0` batches whenever the shapes allow (the operator says dim 0
 * is a batch axis), `none` runs one request per run, shapes as the model declares them.
 */
export type BatchingMode = 'auto' | 'dim0' | 'none';

/** What the batching probe saw (batching-probe.ts): rows run together against each row alone. */
export interface ProbeEvidence {
  readonly rows: number;
  /** Every output of the rows run together equals, row for row, the output of each row alone (within `tolerance`). */
  readonly rowsIndependent: boolean;
  /** And bit for bit. */
  readonly exact: boolean;
  /** The largest difference seen (0 when exact; null when not a number: a shape, count or integer mismatch, or an error). */
  readonly maxAbsDiff: number | null;
  readonly tolerance: { readonly absolute: number; readonly relative: number };
  /** The first output that differed, and how. */
  readonly difference: string | null;
  /** The probe could not run the model (it is then served unbatched). */
  readonly error: string | null;
}

export interface BatchingDecision {
  readonly batched: boolean;
  /** Why, in one sentence: shown in events, the snapshot and the Models page. */
  readonly reason: string;
  readonly mode: BatchingMode;
  readonly evidence: ProbeEvidence | null;
}

/**
 * A plan with rows of fixed size, served through shared-memory arenas: `dynamic` batches
 * requests along dim 0; `unbatched` runs one request per run with dim 0 fixed by the model.
 */
export interface RowPlan {
  readonly mode: 'dynamic' | 'unbatched';
  /** Rows in one run at most (the fixed batch size when unbatched). */
  readonly maxRows: number;
  /** The fixed size of dim 0 when unbatched. */
  readonly fixedBatch: number | undefined;
  readonly inputs: readonly PlannedTensor[];
  readonly outputs: readonly PlannedTensor[];
  readonly decision: BatchingDecision;
}

/**
 * One request per run with shapes as the model declares them (any rank, symbolic dims
 * anywhere, strings, outputs of whatever shape onnxruntime returns): each run's tensors are
 * packed into a slot sized in bytes, or moved by transfer (byte-arena.ts).
 */
export interface DirectPlan {
  readonly mode: 'direct';
  readonly maxRows: 1;
  readonly fixedBatch: undefined;
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  readonly decision: BatchingDecision;
}

/**
 * Batched along dim 0 with another dim symbolic (a sequence length): a request is batched
 * only with requests of the same shape past dim 0 (its group), as Triton does without
 * ragged batching. Rows differ in size from group to group, so a batch's tensors are
 * packed per run like a direct plan's, concatenated along dim 0 and split back along dim 0 only.
 */
export interface GroupedPlan {
  readonly mode: 'grouped';
  readonly maxRows: number;
  readonly fixedBatch: undefined;
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  readonly decision: BatchingDecision;
}

/** The plans whose tensors' sizes vary per run: packed into a byte arena's slot per run, not laid out in rows ahead of time. */
export type PackedPlan = DirectPlan | GroupedPlan;

export function isPackedPlan(plan: ServingPlan): plan is PackedPlan {
  return plan.mode === 'direct' || plan.mode === 'grouped';
}

export type ServingPlan = RowPlan | DirectPlan | GroupedPlan;

function toSpec(meta: RawValueMetadata, kind: 'input' | 'output'): TensorSpec {
  if (!meta.isTensor || meta.type === undefined || meta.shape === undefined) {
    throw new UnsupportedModelError(`${kind} "${meta.name}" is not a tensor (sequences and maps are not served)`);
  }
  if (!isDType(meta.type)) {
    throw new UnsupportedModelError(`${kind} "${meta.name}" has dtype ${meta.type}, which onnxruntime-node does not serve`);
  }
  // A negative or empty-named dim is unnamed: call it by its position so messages can name it.
  const shape = meta.shape.map((d, i) => (typeof d === 'number' ? (d < 0 ? `dim${i}` : d) : d === '' ? `dim${i}` : d));
  return { name: meta.name, dtype: meta.type, shape };
}

export function signatureFromMetadata(inputs: readonly RawValueMetadata[], outputs: readonly RawValueMetadata[]): ModelSignature {
  return { inputs: inputs.map((m) => toSpec(m, 'input')), outputs: outputs.map((m) => toSpec(m, 'output')) };
}

const isSymbolic = (d: DimSpec): d is string => typeof d === 'string';

function rowOf(spec: TensorSpec): PlannedTensor {
  const rowShape = spec.shape.slice(1) as number[]; // the caller checked that they are numbers
  return { name: spec.name, dtype: spec.dtype as NumericDType, rowShape, rowElements: rowShape.reduce((a, b) => a * b, 1) };
}

/** Why a model's shapes cannot be batched along dim 0, or undefined if they can. */
export function batchObstacle(signature: ModelSignature): string | undefined {
  for (const [kind, specs] of [
    ['input', signature.inputs],
    ['output', signature.outputs],
  ] as const) {
    for (const spec of specs) {
      if (!isNumericDType(spec.dtype)) return `${kind} "${spec.name}" holds strings`;
      if (spec.shape.length === 0) return `${kind} "${spec.name}" is a scalar`;
      if (!isSymbolic(spec.shape[0]!)) return `${kind} "${spec.name}" has a fixed dim 0 (${spec.shape[0]})`;
    }
  }
  return undefined;
}

/** The first tensor with a symbolic dim past dim 0: its batches are grouped by shape. */
function innerSymbolic(signature: ModelSignature): string | undefined {
  for (const spec of [...signature.inputs, ...signature.outputs]) {
    const inner = spec.shape.findIndex((d, i) => i > 0 && isSymbolic(d));
    if (inner > 0) return `"${spec.name}" has a symbolic dim ${inner} ("${spec.shape[inner]}")`;
  }
  return undefined;
}

/** The fixed dim 0 every input and output shares, with fixed rows, when there is one (today's arena path for fixed batches). */
function sharedFixedBatch(signature: ModelSignature): number | undefined {
  const all = [...signature.inputs, ...signature.outputs];
  const first = all[0]?.shape[0];
  if (typeof first !== 'number') return undefined;
  for (const spec of all) {
    if (!isNumericDType(spec.dtype) || spec.shape.length === 0 || spec.shape[0] !== first || spec.shape.some(isSymbolic)) return undefined;
  }
  return first;
}

function decided(mode: BatchingMode, batched: boolean, reason: string, evidence: ProbeEvidence | null = null): BatchingDecision {
  return { batched, reason, mode, evidence };
}

/** Whether `auto` needs the probe's evidence before it can plan: the shapes allow batching. */
export function needsProbe(signature: ModelSignature, mode: BatchingMode): boolean {
  return mode === 'auto' && batchObstacle(signature) === undefined;
}

/**
 * The serving plan: batched along dim 0 only when the shapes allow it and either the
 * operator says so (`dim0`) or the probe showed rows do not interact (`auto`); otherwise
 * one request per run, through an arena when dim 0 and every other dim are fixed and
 * shared, else by transfer with shapes as declared.
 */
export function planServing(
  signature: ModelSignature,
  maxBatchSize: number,
  batching: { readonly mode: BatchingMode; readonly evidence?: ProbeEvidence | null },
): ServingPlan {
  if (signature.inputs.length === 0) throw new UnsupportedModelError('the model has no inputs');
  const { mode } = batching;
  const evidence = batching.evidence ?? null;
  const obstacle = batchObstacle(signature);
  if (obstacle === undefined && mode !== 'none') {
    if (mode === 'dim0') return rowPlan(signature, maxBatchSize, decided(mode, true, 'batched along dim 0: batching.mode is "dim0"'));
    if (!evidence) throw new Error('planServing: batching.mode "auto" needs the probe\'s evidence for a model it could batch');
    if (evidence.rowsIndependent) {
      const how = evidence.exact
        ? 'bit for bit'
        : `within ${(evidence.maxAbsDiff ?? 0).toExponential(2)} (tolerance ${evidence.tolerance.absolute} + ${evidence.tolerance.relative} x |value|)`;
      return rowPlan(
        signature,
        maxBatchSize,
        decided(mode, true, `batched along dim 0: ${evidence.rows} rows run together gave each row's outputs alone, ${how}`, evidence),
      );
    }
    const why = evidence.error ? `the probe could not run it (${evidence.error})` : `rows interact along dim 0: ${evidence.difference}`;
    return directPlan(signature, decided(mode, false, `one request per run: ${why}`, evidence));
  }
  const why =
    mode === 'none'
      ? 'batching.mode is "none"'
      : `${obstacle}${mode === 'dim0' ? ', so dim 0 cannot be batched although batching.mode is "dim0"' : ''}`;
  const fixed = sharedFixedBatch(signature);
  if (fixed !== undefined && fixed <= MAX_BATCH_ROWS) {
    const decision = decided(mode, false, `one request per run: ${why}`);
    return {
      mode: 'unbatched',
      maxRows: fixed,
      fixedBatch: fixed,
      inputs: signature.inputs.map(rowOf),
      outputs: signature.outputs.map(rowOf),
      decision,
    };
  }
  return directPlan(signature, decided(mode, false, `one request per run, shapes as declared: ${why}`));
}

/** Batched: in an arena when every dim past dim 0 is fixed, else grouped by shape and moved by transfer. */
function rowPlan(signature: ModelSignature, maxBatchSize: number, decision: BatchingDecision): RowPlan | GroupedPlan {
  const grouped = innerSymbolic(signature);
  if (grouped !== undefined) {
    const reason = `${decision.reason}; ${grouped}, so a request is batched only with requests of its shape`;
    return {
      mode: 'grouped',
      maxRows: maxBatchSize,
      fixedBatch: undefined,
      inputs: signature.inputs,
      outputs: signature.outputs,
      decision: { ...decision, reason },
    };
  }
  return {
    mode: 'dynamic',
    maxRows: maxBatchSize,
    fixedBatch: undefined,
    inputs: signature.inputs.map(rowOf),
    outputs: signature.outputs.map(rowOf),
    decision,
  };
}

function directPlan(signature: ModelSignature, decision: BatchingDecision): DirectPlan {
  return { mode: 'direct', maxRows: 1, fixedBatch: undefined, inputs: signature.inputs, outputs: signature.outputs, decision };
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
        const bothSymbolic = typeof p.shape[d] === 'string' && typeof q.shape[d] === 'string'; // names may differ
        if (p.shape[d] !== q.shape[d] && !bothSymbolic) return `${kind} "${p.name}" dim ${d} changed from ${p.shape[d]} to ${q.shape[d]}`;
      }
    }
    return undefined;
  };
  return compare(a.inputs, b.inputs, 'input') ?? compare(a.outputs, b.outputs, 'output');
}
