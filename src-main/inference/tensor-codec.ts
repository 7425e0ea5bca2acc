/**
 * Tensor data as the Open Inference Protocol carries it, to and from the engine's typed
 * arrays: JSON `data` (flat or nested, row-major) and the binary tensor data extension's
 * bytes (little-endian, row-major, BYTES elements each a 4-byte length and the bytes).
 * Every check names the tensor and says what is wrong; nothing here trusts a size the
 * client sent before comparing it with the shape.
 */
import { dtypeInfo, isNumericDType, type NumericDType } from '../engine/dtypes.js';
import type { DType, TensorValues } from '../engine/index.js';
import { dtypeOf, type ProtocolDatatype } from './datatypes.js';
import { fromHalfBits, toHalfBits } from './half-float.js';
import { ProtocolError } from './protocol-error.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

function invalid(tensor: string, message: string): ProtocolError {
  return new ProtocolError('invalid', `tensor "${tensor}": ${message}`);
}

/** The number of elements of `shape`, checked: non-negative integers, at most `maxElements` in all. */
export function elementCount(tensor: string, shape: unknown, maxElements: number): number {
  if (!Array.isArray(shape)) throw invalid(tensor, 'shape must be an array of non-negative integers');
  let count = 1;
  for (const dim of shape) {
    if (typeof dim !== 'number' || !Number.isSafeInteger(dim) || dim < 0)
      throw invalid(tensor, `shape [${shape.map(String).join(', ')}] must hold non-negative integers`);
    count *= dim;
  }
  if (count > maxElements) throw new ProtocolError('too_large', `tensor "${tensor}": ${count} elements, over the limit of ${maxElements}`);
  return count;
}

const INT_RANGES: Partial<Record<NumericDType, readonly [number, number]>> = {
  int8: [-128, 127],
  uint8: [0, 255],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-(2 ** 31), 2 ** 31 - 1],
  uint32: [0, 2 ** 32 - 1],
  int64: [-(2 ** 63), 2 ** 63 - 1],
  uint64: [0, 2 ** 64 - 1],
};

/** Flatten nested JSON arrays in row-major order, at most `depth` levels deep. */
function flatten(tensor: string, data: unknown, depth: number): unknown[] {
  if (!Array.isArray(data)) throw invalid(tensor, '"data" must be an array');
  if (!data.some(Array.isArray)) return data;
  if (depth <= 1) throw invalid(tensor, '"data" is nested deeper than the shape');
  const flat: unknown[] = [];
  for (const item of data) {
    if (Array.isArray(item)) for (const inner of flatten(tensor, item, depth - 1)) flat.push(inner);
    else flat.push(item);
  }
  return flat;
}

/** JSON `data` as the engine's values of `datatype`, with `count` elements. */
export function decodeJsonData(tensor: string, datatype: ProtocolDatatype, count: number, data: unknown, rank: number): TensorValues {
  const flat = flatten(tensor, data, Math.max(1, rank));
  if (flat.length !== count) throw invalid(tensor, `"data" has ${flat.length} elements; its shape holds ${count}`);
  const dtype = dtypeOf(datatype);
  if (dtype === 'string') {
    for (let i = 0; i < flat.length; i++)
      if (typeof flat[i] !== 'string') throw invalid(tensor, `element ${i} of a BYTES tensor must be a string`);
    return flat as string[];
  }
  const values = new (dtypeInfo(dtype).ctor)(count);
  if (dtype === 'bool') {
    for (let i = 0; i < count; i++) {
      const v = flat[i];
      if (typeof v !== 'boolean') throw invalid(tensor, `element ${i} of a BOOL tensor must be true or false`);
      values[i] = v ? 1 : 0;
    }
    return values;
  }
  const range = INT_RANGES[dtype];
  const big = dtype === 'int64' || dtype === 'uint64';
  for (let i = 0; i < count; i++) {
    const v = flat[i];
    if (typeof v !== 'number') throw invalid(tensor, `element ${i} of a ${datatype} tensor must be a number`);
    if (range && (!Number.isInteger(v) || v < range[0] || v > range[1]))
      throw invalid(tensor, `element ${i} (${v}) is not a ${datatype} value`);
    // JSON.parse has already rounded an integer beyond 2^53 to a double: refused, never served rounded.
    if (big && !Number.isSafeInteger(v))
      throw invalid(
        tensor,
        `element ${i} is beyond ±2^53, which JSON numbers cannot hold exactly; send ${datatype} so large as binary data`,
      );
    if (big) values[i] = BigInt(v);
    else values[i] = dtype === 'float16' ? toHalfBits(v) : v;
  }
  return values;
}

/** The binary extension's bytes of one tensor as the engine's values. */
export function decodeBinaryData(tensor: string, datatype: ProtocolDatatype, count: number, bytes: Uint8Array): TensorValues {
  const dtype = dtypeOf(datatype);
  if (dtype === 'string') return decodeBytesElements(tensor, count, bytes);
  const info = dtypeInfo(dtype);
  if (bytes.byteLength !== count * info.bytes)
    throw invalid(tensor, `binary data is ${bytes.byteLength} bytes; ${count} ${datatype} elements are ${count * info.bytes}`);
  // A copy: the body's bytes sit at any offset, and a typed array must be aligned to its element size.
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new info.ctor(copy.buffer, 0, count); // little-endian, as the extension says and as every host this runs on is
}

function decodeBytesElements(tensor: string, count: number, bytes: Uint8Array): string[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: string[] = [];
  let at = 0;
  while (at < bytes.byteLength) {
    if (at + 4 > bytes.byteLength) throw invalid(tensor, `BYTES element ${out.length} has a truncated length`);
    const length = view.getUint32(at, true);
    at += 4;
    if (at + length > bytes.byteLength) throw invalid(tensor, `BYTES element ${out.length} runs past the tensor's binary data`);
    try {
      out.push(utf8.decode(bytes.subarray(at, at + length)));
    } catch (error) {
      throw new ProtocolError(
        'invalid',
        `tensor "${tensor}": BYTES element ${out.length} is not UTF-8 text (onnxruntime strings are)`,
        undefined,
        {
          cause: error,
        },
      );
    }
    at += length;
    if (out.length > count) break;
  }
  if (out.length !== count) throw invalid(tensor, `binary data holds ${out.length} BYTES elements; its shape holds ${count}`);
  return out;
}

/** The values as a JSON array, written by hand: int64 must stay exact, and JSON has no BigInt. */
export function jsonDataOf(dtype: DType, values: TensorValues): string {
  if (dtype === 'string') return JSON.stringify(values);
  if (dtype === 'bool') return `[${Array.from(values as Uint8Array, (v) => (v ? 'true' : 'false')).join(',')}]`;
  if (dtype === 'float16') return JSON.stringify(Array.from(values as Uint16Array, fromHalfBits)); // NaN and Infinity become null, as JSON has them
  if (dtype === 'float32' || dtype === 'float64') return JSON.stringify(Array.from(values as Float32Array));
  return `[${(values as Int32Array).join(',')}]`; // integers, BigInt ones included, print exactly
}

/** The values as the binary extension's bytes: a view of a numeric array, or BYTES elements length-prefixed. */
export function binaryDataOf(dtype: DType, values: TensorValues): Uint8Array {
  if (isNumericDType(dtype)) {
    const typed = values as Exclude<TensorValues, string[]>;
    return new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
  }
  const encoded = (values as string[]).map((s) => utf8Encoder.encode(s));
  const out = new Uint8Array(encoded.reduce((n, e) => n + 4 + e.byteLength, 0));
  const view = new DataView(out.buffer);
  let at = 0;
  for (const e of encoded) {
    view.setUint32(at, e.byteLength, true);
    out.set(e, at + 4);
    at += 4 + e.byteLength;
  }
  return out;
}
