/**
 * The tensor element types the engine serves, with the typed array that carries each
 * one: every type onnxruntime-node takes. bool travels as Uint8Array (one byte per
 * element) and float16 as Uint16Array (the raw half-precision bits), as onnxruntime-node
 * represents them, so a request names the dtype when the array alone is ambiguous.
 * Strings are arrays of JavaScript strings: they have no fixed size, so they never go
 * through a shared-memory arena (see signature.ts).
 */
export type NumericDType =
  'float32' | 'float64' | 'float16' | 'int32' | 'int64' | 'uint8' | 'int8' | 'int16' | 'uint16' | 'uint32' | 'uint64' | 'bool';

export type DType = NumericDType | 'string';

export type TensorData =
  | Float32Array
  | Float64Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Int8Array
  | Int16Array
  | Uint16Array
  | Uint32Array
  | BigUint64Array;

/** A tensor's elements as requests and answers carry them: a typed array, or strings. */
export type TensorValues = TensorData | string[];

type TypedArrayCtor = {
  new (length: number): TensorData;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): TensorData;
  readonly BYTES_PER_ELEMENT: number;
};

export interface DTypeInfo {
  readonly name: NumericDType;
  readonly ctor: TypedArrayCtor;
  readonly bytes: number;
  /** TensorProto.DataType in onnx.proto. */
  readonly onnx: number;
  /** Whether the finite-values check applies. */
  readonly floating: boolean;
}

const table: Record<NumericDType, DTypeInfo> = {
  float32: { name: 'float32', ctor: Float32Array, bytes: 4, onnx: 1, floating: true },
  uint8: { name: 'uint8', ctor: Uint8Array, bytes: 1, onnx: 2, floating: false },
  int8: { name: 'int8', ctor: Int8Array, bytes: 1, onnx: 3, floating: false },
  uint16: { name: 'uint16', ctor: Uint16Array, bytes: 2, onnx: 4, floating: false },
  int16: { name: 'int16', ctor: Int16Array, bytes: 2, onnx: 5, floating: false },
  int32: { name: 'int32', ctor: Int32Array, bytes: 4, onnx: 6, floating: false },
  int64: { name: 'int64', ctor: BigInt64Array, bytes: 8, onnx: 7, floating: false },
  bool: { name: 'bool', ctor: Uint8Array, bytes: 1, onnx: 9, floating: false },
  // The finite check reads float16 bits itself (see validate.ts), so it is not "floating" here.
  float16: { name: 'float16', ctor: Uint16Array, bytes: 2, onnx: 10, floating: false },
  float64: { name: 'float64', ctor: Float64Array, bytes: 8, onnx: 11, floating: true },
  uint32: { name: 'uint32', ctor: Uint32Array, bytes: 4, onnx: 12, floating: false },
  uint64: { name: 'uint64', ctor: BigUint64Array, bytes: 8, onnx: 13, floating: false },
};

/** TensorProto.DataType of the string type. */
const ONNX_STRING = 8;

export const DTYPES: readonly DType[] = [...(Object.keys(table) as NumericDType[]), 'string'];

export function isDType(value: string): value is DType {
  return value === 'string' || Object.prototype.hasOwnProperty.call(table, value);
}

export function isNumericDType(dtype: DType): dtype is NumericDType {
  return dtype !== 'string';
}

export function onnxTypeOf(dtype: DType): number {
  return dtype === 'string' ? ONNX_STRING : table[dtype].onnx;
}

export function dtypeInfo(dtype: NumericDType): DTypeInfo {
  return table[dtype];
}

/** The dtypes an array can carry: Uint8Array is uint8 or bool, Uint16Array uint16 or float16. */
export function dtypesOfArray(data: unknown): readonly DType[] {
  if (data instanceof Float32Array) return ['float32'];
  if (data instanceof Float64Array) return ['float64'];
  if (data instanceof Int32Array) return ['int32'];
  if (data instanceof BigInt64Array) return ['int64'];
  if (data instanceof Uint8Array) return ['uint8', 'bool'];
  if (data instanceof Int8Array) return ['int8'];
  if (data instanceof Int16Array) return ['int16'];
  if (data instanceof Uint16Array) return ['uint16', 'float16'];
  if (data instanceof Uint32Array) return ['uint32'];
  if (data instanceof BigUint64Array) return ['uint64'];
  if (Array.isArray(data)) return ['string'];
  return [];
}

/** Whether a float16 value (its bits) is finite: the exponent is not all ones. */
export function isFiniteHalf(bits: number): boolean {
  return (bits & 0x7c00) !== 0x7c00;
}

/**
 * Copy `source` into the start of `target`, both of one dtype, as bytes: the same code for
 * every dtype, with no cast to one element type (a view of int64 is not a Float32Array).
 */
export function copyTensorBytes(target: TensorData, source: ArrayBufferView): void {
  if (source.byteLength > target.byteLength) {
    throw new RangeError(`cannot copy ${source.byteLength} bytes into a view of ${target.byteLength}`);
  }
  new Uint8Array(target.buffer, target.byteOffset, source.byteLength).set(
    new Uint8Array(source.buffer, source.byteOffset, source.byteLength),
  );
}
