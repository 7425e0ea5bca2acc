/**
 * Checks a request against the serving plan before anything is enqueued. The checks
 * run on the caller's thread for every request, so they allocate nothing but the
 * ordered list of input arrays.
 */
import { dtypeInfo, dtypesOfArray, type DType, type TensorData } from './dtypes.js';
import { InvalidInputError } from './errors.js';
import type { ServingPlan } from './signature.js';

export interface Tensor {
  readonly data: TensorData;
  readonly dims: readonly number[];
  /** Needed only to tell bool from uint8 (both are Uint8Array); checked when given. */
  readonly dtype?: DType;
}

export type TensorMap = Readonly<Record<string, Tensor>>;

export interface ValidatedRequest {
  /** Input arrays in plan order. */
  readonly data: TensorData[];
  /** Size of dim 0, shared by every input. */
  readonly rows: number;
}

function isFiniteArray(data: TensorData): boolean {
  const values = data as Float32Array | Float64Array;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v - v !== 0) return false; // NaN and ±Infinity both give NaN here
  }
  return true;
}

export function validateInputs(plan: ServingPlan, inputs: unknown, checkFinite: boolean): ValidatedRequest {
  if (typeof inputs !== 'object' || inputs === null || Array.isArray(inputs)) {
    throw new InvalidInputError('not_an_object', undefined, 'inputs must be an object mapping input names to tensors');
  }
  const given = inputs as Record<string, unknown>;
  for (const name in given) {
    if (!plan.inputs.some((p) => p.name === name)) {
      const expected = plan.inputs.map((p) => p.name).join(', ');
      throw new InvalidInputError('unknown_input', name, `the model has no such input (it takes: ${expected})`);
    }
  }
  const data: TensorData[] = new Array<TensorData>(plan.inputs.length);
  let rows = -1;
  for (let i = 0; i < plan.inputs.length; i++) {
    const spec = plan.inputs[i]!;
    const tensor = given[spec.name] as Partial<Tensor> | undefined;
    if (tensor === undefined) throw new InvalidInputError('missing_input', spec.name, 'required input is missing');
    if (typeof tensor !== 'object' || tensor === null || !ArrayBuffer.isView(tensor.data) || !Array.isArray(tensor.dims)) {
      throw new InvalidInputError('not_a_tensor', spec.name, 'expected { data: TypedArray, dims: number[] }');
    }
    const carried = dtypesOfArray(tensor.data);
    if (!carried.includes(spec.dtype) || (tensor.dtype !== undefined && tensor.dtype !== spec.dtype)) {
      const got = tensor.dtype ?? carried[0] ?? tensor.data.constructor.name;
      throw new InvalidInputError('dtype', spec.name, `expected ${spec.dtype} (${dtypeInfo(spec.dtype).ctor.name}), got ${got}`);
    }
    const dims: readonly unknown[] = tensor.dims;
    if (dims.length !== spec.rowShape.length + 1) {
      throw new InvalidInputError('rank', spec.name, `expected rank ${spec.rowShape.length + 1}, got ${dims.length}`);
    }
    let elements = 1;
    for (let d = 0; d < dims.length; d++) {
      const size = dims[d];
      if (typeof size !== 'number' || !Number.isInteger(size) || size < 0) {
        throw new InvalidInputError('dim', spec.name, `dim ${d} must be a non-negative integer, got ${String(size)}`);
      }
      if (d > 0 && size !== spec.rowShape[d - 1]) {
        throw new InvalidInputError('dim', spec.name, `dim ${d} must be ${spec.rowShape[d - 1]}, got ${size}`);
      }
      elements *= size;
    }
    const batch = dims[0] as number; // checked in the loop above
    if (plan.mode === 'unbatched') {
      if (batch !== plan.fixedBatch) {
        throw new InvalidInputError('dim', spec.name, `dim 0 is fixed at ${plan.fixedBatch} by the model, got ${batch}`);
      }
    } else if (batch === 0) {
      throw new InvalidInputError('empty_batch', spec.name, 'dim 0 (batch) must be at least 1');
    } else if (batch > plan.maxRows) {
      throw new InvalidInputError('batch_too_large', spec.name, `batch of ${batch} rows exceeds the maximum of ${plan.maxRows}`);
    }
    if (rows === -1) rows = batch;
    else if (batch !== rows) {
      throw new InvalidInputError('batch_mismatch', spec.name, `dim 0 is ${batch} but other inputs have ${rows}`);
    }
    if (tensor.data.length !== elements) {
      throw new InvalidInputError(
        'element_count',
        spec.name,
        `dims [${dims.join(', ')}] need ${elements} elements, data has ${tensor.data.length}`,
      );
    }
    if (checkFinite && dtypeInfo(spec.dtype).floating && !isFiniteArray(tensor.data)) {
      throw new InvalidInputError('non_finite', spec.name, 'contains NaN or Infinity');
    }
    data[i] = tensor.data;
  }
  return { data, rows };
}
