/**
 * A request's tensors in shared memory: each input read from its region straight into a
 * typed array of its own (aligned, the request's to keep), each output written from the
 * engine's result into the place the request gave it. Sizes are checked against the
 * shape before a byte moves.
 */
import { dtypeInfo, isNumericDType } from '../../engine/dtypes.js';
import type { DType, TensorValues } from '../../engine/index.js';
import { dtypeOf, type ProtocolDatatype } from '../datatypes.js';
import { ProtocolError } from '../protocol-error.js';
import { binaryDataOf, decodeBinaryData } from '../tensor-codec.js';
import type { ShmLease, ShmReference } from './shared-memory-regions.js';

export function readShmInput(
  lease: ShmLease,
  ref: ShmReference,
  name: string,
  datatype: ProtocolDatatype,
  shape: readonly number[],
): TensorValues {
  const where = `tensor "${name}"`;
  const count = shape.reduce((a, b) => a * b, 1);
  const dtype = dtypeOf(datatype);
  if (!isNumericDType(dtype)) {
    const bytes = new Uint8Array(ref.byteSize);
    lease.readInto(ref, bytes, where);
    return decodeBinaryData(name, datatype, count, bytes); // BYTES elements: decoded from the bytes, no further copy
  }
  const info = dtypeInfo(dtype);
  if (ref.byteSize !== count * info.bytes)
    throw new ProtocolError(
      'invalid',
      `${where}: shared_memory_byte_size is ${ref.byteSize}; ${count} ${datatype} elements are ${count * info.bytes} bytes`,
    );
  const values = new info.ctor(count);
  lease.readInto(ref, new Uint8Array(values.buffer, 0, ref.byteSize), where);
  return values;
}

export function writeShmOutput(lease: ShmLease, ref: ShmReference, name: string, dtype: DType, data: TensorValues): void {
  lease.write(ref, binaryDataOf(dtype, data), `output "${name}"`);
}
