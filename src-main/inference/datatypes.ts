/**
 * The Open Inference Protocol's tensor datatypes and the engine's dtypes they are. One
 * table for both protocols (HTTP/REST and gRPC), and for the model configuration's
 * Triton names (`TYPE_FP32`).
 */
import type { DType } from '../engine/index.js';

export type ProtocolDatatype =
  'BOOL' | 'UINT8' | 'UINT16' | 'UINT32' | 'UINT64' | 'INT8' | 'INT16' | 'INT32' | 'INT64' | 'FP16' | 'FP32' | 'FP64' | 'BYTES';

const TO_DTYPE: Record<ProtocolDatatype, DType> = {
  BOOL: 'bool',
  UINT8: 'uint8',
  UINT16: 'uint16',
  UINT32: 'uint32',
  UINT64: 'uint64',
  INT8: 'int8',
  INT16: 'int16',
  INT32: 'int32',
  INT64: 'int64',
  FP16: 'float16',
  FP32: 'float32',
  FP64: 'float64',
  BYTES: 'string',
};

const FROM_DTYPE = Object.fromEntries(Object.entries(TO_DTYPE).map(([p, d]) => [d, p])) as Record<DType, ProtocolDatatype>;

export const PROTOCOL_DATATYPES = Object.keys(TO_DTYPE) as ProtocolDatatype[];

export function isProtocolDatatype(value: unknown): value is ProtocolDatatype {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(TO_DTYPE, value);
}

export function dtypeOf(datatype: ProtocolDatatype): DType {
  return TO_DTYPE[datatype];
}

export function datatypeOf(dtype: DType): ProtocolDatatype {
  return FROM_DTYPE[dtype];
}

/** The model configuration's name of a datatype (model_config.proto's DataType). */
export function configTypeOf(dtype: DType): string {
  const datatype = datatypeOf(dtype);
  return datatype === 'BYTES' ? 'TYPE_STRING' : `TYPE_${datatype}`;
}
