/**
 * The Open Inference Protocol's messages as both protocols decode them (HTTP/REST's JSON
 * with binary data, gRPC's protobuf): tensor data is already the engine's values here, so
 * one request path (inference-service.ts) serves both. Field names follow the protocol's
 * JSON so that responses are written out without renaming.
 */
import type { DType, TensorValues } from '../engine/index.js';
import type { ProtocolDatatype } from './datatypes.js';
import type { ShmReference } from './shm/shared-memory-regions.js';

interface DecodedTensor {
  readonly name: string;
  readonly datatype: ProtocolDatatype;
  readonly shape: readonly number[];
}

/** An input's values, in the request or in a registered shared-memory region (read when the request is served). */
export type DecodedInput = DecodedTensor &
  ({ readonly data: TensorValues; readonly shm?: undefined } | { readonly shm: ShmReference; readonly data?: undefined });

export interface RequestedOutput {
  readonly name: string;
  /** Whether to return it as binary data (HTTP's binary extension; gRPC's raw contents). */
  readonly binary: boolean;
  /** Written into this region instead of the response. */
  readonly shm?: ShmReference;
}

export interface DecodedInferRequest {
  readonly model: string;
  /** Absent: the active version. */
  readonly version?: number;
  readonly id?: string;
  readonly inputs: readonly DecodedInput[];
  /** Absent: every output, in the model's order. */
  readonly outputs?: readonly RequestedOutput[];
  /** Binary unless an output says otherwise (HTTP's `binary_data_output`). */
  readonly binaryByDefault: boolean;
  /** From `parameters.timeout` (µs), as the engine's deadline. */
  readonly timeoutMs?: number;
  /** The rate limiter's key: the token's or the peer's. */
  readonly clientId: string;
}

export interface ResponseOutput {
  readonly name: string;
  readonly datatype: ProtocolDatatype;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: TensorValues;
  readonly binary: boolean;
  /** Where the data was written; the response then carries none. */
  readonly shm?: ShmReference;
}

export interface InferResponse {
  readonly model_name: string;
  readonly model_version: string;
  readonly id?: string;
  readonly outputs: readonly ResponseOutput[];
}

export interface TensorMetadata {
  readonly name: string;
  readonly datatype: ProtocolDatatype;
  /** -1 for a dimension of any size. */
  readonly shape: readonly number[];
}

export interface ModelMetadata {
  readonly name: string;
  readonly versions: readonly string[];
  readonly platform: string;
  readonly inputs: readonly TensorMetadata[];
  readonly outputs: readonly TensorMetadata[];
}

export interface ServerMetadata {
  readonly name: string;
  readonly version: string;
  readonly extensions: readonly string[];
}

export interface RepositoryIndexEntry {
  readonly name: string;
  readonly version: string;
  readonly state: 'READY' | 'UNAVAILABLE' | 'LOADING' | 'UNLOADING';
  readonly reason: string;
}

/** Triton's statistics: a count and a total duration in nanoseconds. */
export interface DurationStatJson {
  readonly count: number;
  readonly ns: number;
}

export interface ModelStatisticsJson {
  readonly name: string;
  readonly version: string;
  readonly last_inference: number;
  readonly inference_count: number;
  readonly execution_count: number;
  readonly inference_stats: Readonly<
    Record<
      'success' | 'fail' | 'queue' | 'compute_input' | 'compute_infer' | 'compute_output' | 'cache_hit' | 'cache_miss',
      DurationStatJson
    >
  >;
  readonly batch_stats: readonly {
    readonly batch_size: number;
    readonly compute_input: DurationStatJson;
    readonly compute_infer: DurationStatJson;
    readonly compute_output: DurationStatJson;
  }[];
}
