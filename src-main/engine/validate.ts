/**
 * Checks a request against the serving plan before anything is enqueued. The checks
 * run on the caller's thread for every request, so they allocate nothing but the
 * ordered list of input arrays.
 */
import { dtypeInfo, dtypesOfArray, isFiniteHalf, isNumericDType, type DType, type TensorData, type TensorValues } from './dtypes.js';
import { InvalidInputError } from './errors.js';
import { isPackedPlan, type RowPlan, type ServingPlan, type TensorSpec, type PackedPlan } from './signature.js';
import { TensorSource, type InputValues } from './tensor-source.js';

export interface Tensor {
  /** A TensorSource is read once, where the engine needs the values (see tensor-source.ts). */
  readonly data: InputValues;
  readonly dims: readonly number[];
  /** Needed only to tell bool from uint8 (Uint8Array) and float16 from uint16 (Uint16Array); checked when given. */
  readonly dtype?: DType;
}

export type TensorMap = Readonly<Record<string, Tensor>>;

export interface ValidatedRequest {
  /** Input arrays in plan order; a source only for a row plan without the finite check (copied into the arena as the batch is assembled). */
  readonly data: InputValues[];
  /** Size of dim 0, shared by every input (1 for a direct plan: one request, one run). */
  readonly rows: number;
  /** Each input's dims, for a plan that moves tensors by transfer (a row plan knows them from the rows). */
  readonly dims: (readonly number[])[] | undefined;
  /** A grouped plan's shape past dim 0, as a key: requests are batched only with their own group. */
  readonly group: string | undefined;
}

function isFiniteArray(dtype: DType, data: TensorValues): boolean {
  if (dtype === 'float16') {
    for (const bits of data as Uint16Array) if (!isFiniteHalf(bits)) return false;
    return true;
  }
  const values = data as Float32Array | Float64Array; // the callers pass float32 or float64 here
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v - v !== 0) return false; // NaN and ±Infinity both give NaN here
  }
  return true;
}

const checksFinite = (dtype: DType) => dtype === 'float16' || (isNumericDType(dtype) && dtypeInfo(dtype).floating);

export function validateInputs(plan: ServingPlan, inputs: unknown, checkFinite: boolean): ValidatedRequest {
  const given = checkNames(plan, inputs);
  return isPackedPlan(plan) ? validateShapes(plan, given, checkFinite) : validateRows(plan, given, checkFinite);
}

function checkNames(plan: ServingPlan, inputs: unknown): Record<string, unknown> {
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
  return given;
}

/** The tensor given for `spec`, with its data of `spec`'s dtype. */
function tensorFor(given: Record<string, unknown>, spec: { readonly name: string; readonly dtype: DType }): Tensor {
  const tensor = given[spec.name] as Partial<Tensor> | undefined;
  if (tensor === undefined) throw new InvalidInputError('missing_input', spec.name, 'required input is missing');
  const shaped = typeof tensor === 'object' && tensor !== null && Array.isArray(tensor.dims);
  const data = shaped ? tensor.data : undefined;
  if (data instanceof TensorSource) {
    if (data.dtype !== spec.dtype) throw new InvalidInputError('dtype', spec.name, `expected ${spec.dtype}, got ${data.dtype}`);
    return tensor as Tensor;
  }
  if (!shaped || !(ArrayBuffer.isView(data) || (spec.dtype === 'string' && Array.isArray(data)))) {
    const expected = spec.dtype === 'string' ? 'string[]' : 'TypedArray';
    throw new InvalidInputError('not_a_tensor', spec.name, `expected { data: ${expected}, dims: number[] }`);
  }
  const carried = dtypesOfArray(data);
  if (!carried.includes(spec.dtype) || (tensor.dtype !== undefined && tensor.dtype !== spec.dtype)) {
    const got = tensor.dtype ?? carried[0] ?? data.constructor.name;
    const array = isNumericDType(spec.dtype) ? dtypeInfo(spec.dtype).ctor.name : 'an array of strings';
    throw new InvalidInputError('dtype', spec.name, `expected ${spec.dtype} (${array}), got ${got}`);
  }
  if (spec.dtype === 'string' && !(data as unknown[]).every((v) => typeof v === 'string'))
    throw new InvalidInputError('dtype', spec.name, 'expected string (an array of strings), got an element that is not a string');
  return tensor as Tensor;
}

/** The data holds what its dims say, and (when asked) only finite floats. */
function checkContents(
  spec: { readonly name: string; readonly dtype: DType },
  tensor: Tensor,
  elements: number,
  checkFinite: boolean,
): void {
  if (tensor.data.length !== elements) {
    throw new InvalidInputError(
      'element_count',
      spec.name,
      `dims [${tensor.dims.join(', ')}] need ${elements} elements, data has ${tensor.data.length}`,
    );
  }
  if (checkFinite && checksFinite(spec.dtype) && !isFiniteArray(spec.dtype, tensor.data as TensorValues)) {
    throw new InvalidInputError('non_finite', spec.name, 'contains NaN or Infinity');
  }
}

/** Dim 0 of a batched plan's input: at least 1, at most `maxRows`, and that of every other input (`rows`, -1 for the first). */
function checkBatch(name: string, batch: number, maxRows: number, rows: number): void {
  if (batch === 0) throw new InvalidInputError('empty_batch', name, 'dim 0 (batch) must be at least 1');
  if (batch > maxRows) throw new InvalidInputError('batch_too_large', name, `batch of ${batch} rows exceeds the maximum of ${maxRows}`);
  if (rows !== -1 && batch !== rows) throw new InvalidInputError('batch_mismatch', name, `dim 0 is ${batch} but other inputs have ${rows}`);
}

/**
 * Shapes as declared: rank and every fixed dim checked, symbolic dims free. One request per
 * run (direct), or batched with the requests of its shape past dim 0 (grouped).
 */
function validateShapes(plan: PackedPlan, given: Record<string, unknown>, checkFinite: boolean): ValidatedRequest {
  const data: TensorValues[] = new Array<TensorValues>(plan.inputs.length);
  const allDims: (readonly number[])[] = new Array<readonly number[]>(plan.inputs.length);
  for (let i = 0; i < plan.inputs.length; i++) {
    const spec: TensorSpec = plan.inputs[i]!;
    const tensor = valuesNow(tensorFor(given, spec)); // a run by transfer takes an array: the source is copied into one now
    const dims: readonly unknown[] = tensor.dims;
    if (dims.length !== spec.shape.length) {
      throw new InvalidInputError('rank', spec.name, `expected rank ${spec.shape.length} [${spec.shape.join(', ')}], got ${dims.length}`);
    }
    let elements = 1;
    for (let d = 0; d < dims.length; d++) {
      const size = dims[d];
      if (typeof size !== 'number' || !Number.isInteger(size) || size < 0 || size > MAX_DIM) {
        throw new InvalidInputError('dim', spec.name, `dim ${d} must be an integer from 0 to ${MAX_DIM}, got ${String(size)}`);
      }
      const declared = spec.shape[d]!;
      if (typeof declared === 'number' && size !== declared) {
        throw new InvalidInputError('dim', spec.name, `dim ${d} is fixed at ${declared} by the model, got ${size}`);
      }
      elements *= size;
    }
    checkContents(spec, tensor, elements, checkFinite);
    if (plan.mode === 'grouped') checkBatch(spec.name, dims[0] as number, plan.maxRows, i === 0 ? -1 : allDims[0]![0]!);
    data[i] = tensor.data;
    allDims[i] = dims as readonly number[];
  }
  if (plan.mode === 'direct') return { data, rows: 1, dims: allDims, group: undefined };
  return { data, rows: allDims[0]![0]!, dims: allDims, group: allDims.map((d) => d.slice(1).join(',')).join(';') };
}

/** The tensor with its values in an array: a source's copied into one of its own. */
function valuesNow(tensor: Tensor): Tensor & { readonly data: TensorValues } {
  return tensor.data instanceof TensorSource ? { ...tensor, data: tensor.data.materialize() } : (tensor as Tensor & { data: TensorValues });
}

/** A dim larger than this is a mistake (or an attack on the arithmetic), whatever the memory. */
const MAX_DIM = 2 ** 31 - 1;

function validateRows(plan: RowPlan, given: Record<string, unknown>, checkFinite: boolean): ValidatedRequest {
  const data: (TensorData | TensorSource)[] = new Array<TensorData | TensorSource>(plan.inputs.length);
  let rows = -1;
  for (let i = 0; i < plan.inputs.length; i++) {
    const spec = plan.inputs[i]!;
    const requested = tensorFor(given, spec);
    // The finite check reads the values before the request is accepted; otherwise a source waits for the arena.
    const tensor = checkFinite ? valuesNow(requested) : requested;
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
    } else checkBatch(spec.name, batch, plan.maxRows, rows);
    rows = batch; // every input's equals the first's (the fixed batch, or checked above)
    checkContents(spec, tensor, elements, checkFinite);
    data[i] = tensor.data as TensorData | TensorSource; // a row plan's dtypes are numeric (signature.ts)
  }
  return { data, rows, dims: undefined, group: undefined };
}
