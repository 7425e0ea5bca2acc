/**
 * The tensor element types the engine serves, with the typed array that carries each
 * one. onnxruntime-node represents bool as Uint8Array (one byte per element), so
 * requests carry bool tensors the same way.
 */
export type DType = 'float32' | 'float64' | 'int32' | 'int64' | 'uint8' | 'int8' | 'int16' | 'uint16' | 'bool';

export type TypedArrayFor<D extends DType> = D extends 'float32'
  ? Float32Array
  : D extends 'float64'
    ? Float64Array
    : D extends 'int32'
      ? Int32Array
      : D extends 'int64'
        ? BigInt64Array
        : D extends 'int8'
          ? Int8Array
          : D extends 'int16'
            ? Int16Array
            : D extends 'uint16'
              ? Uint16Array
              : Uint8Array;

export type TensorData = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Int8Array | Int16Array | Uint16Array;

type TypedArrayCtor = {
  new (length: number): TensorData;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): TensorData;
  readonly BYTES_PER_ELEMENT: number;
};

export interface DTypeInfo {
  readonly name: DType;
  readonly ctor: TypedArrayCtor;
  readonly bytes: number;
  /** TensorProto.DataType in onnx.proto. */
  readonly onnx: number;
  /** Whether the finite-values check applies. */
  readonly floating: boolean;
}

const table: Record<DType, DTypeInfo> = {
  float32: { name: 'float32', ctor: Float32Array, bytes: 4, onnx: 1, floating: true },
  uint8: { name: 'uint8', ctor: Uint8Array, bytes: 1, onnx: 2, floating: false },
  int8: { name: 'int8', ctor: Int8Array, bytes: 1, onnx: 3, floating: false },
  uint16: { name: 'uint16', ctor: Uint16Array, bytes: 2, onnx: 4, floating: false },
  int16: { name: 'int16', ctor: Int16Array, bytes: 2, onnx: 5, floating: false },
  int32: { name: 'int32', ctor: Int32Array, bytes: 4, onnx: 6, floating: false },
  int64: { name: 'int64', ctor: BigInt64Array, bytes: 8, onnx: 7, floating: false },
  bool: { name: 'bool', ctor: Uint8Array, bytes: 1, onnx: 9, floating: false },
  float64: { name: 'float64', ctor: Float64Array, bytes: 8, onnx: 11, floating: true },
};

export const DTYPES: readonly DType[] = Object.keys(table) as DType[];

export function isDType(value: string): value is DType {
  return Object.prototype.hasOwnProperty.call(table, value);
}

export function dtypeInfo(dtype: DType): DTypeInfo {
  return table[dtype];
}

/** The dtype a typed array can carry; Uint8Array is ambiguous between uint8 and bool. */
export function dtypesOfArray(data: unknown): readonly DType[] {
  if (data instanceof Float32Array) return ['float32'];
  if (data instanceof Float64Array) return ['float64'];
  if (data instanceof Int32Array) return ['int32'];
  if (data instanceof BigInt64Array) return ['int64'];
  if (data instanceof Uint8Array) return ['uint8', 'bool'];
  if (data instanceof Int8Array) return ['int8'];
  if (data instanceof Int16Array) return ['int16'];
  if (data instanceof Uint16Array) return ['uint16'];
  return [];
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
