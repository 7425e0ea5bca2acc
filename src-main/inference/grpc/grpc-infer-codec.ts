/**
 * ModelInferRequest and ModelInferResponse (as protobufjs decodes them, 64-bit integers as
 * decimal strings) to and from the one request path's messages. Inputs come as typed
 * `contents` or, for every input at once, as `raw_input_contents` in the binary
 * extension's layout; outputs always go back raw, as Triton answers over gRPC. Every
 * check names the tensor, as over HTTP.
 */
import type { TensorValues } from '../../engine/index.js';
import { dtypeOf, isProtocolDatatype, PROTOCOL_DATATYPES, type ProtocolDatatype } from '../datatypes.js';
import { ProtocolError } from '../protocol-error.js';
import type { DecodedInferRequest, DecodedInput, InferResponse, RequestedOutput } from '../protocol-types.js';
import type { ShmReference } from '../shm/shared-memory-regions.js';
import { shmReferenceOf } from '../shm/shm-parameters.js';
import { binaryDataOf, decodeBinaryData, decodeJsonData, elementCount } from '../tensor-codec.js';

/** InferParameter's oneof, as decoded with `oneofs: true`. */
export interface GrpcParameter {
  parameter_choice?: 'bool_param' | 'int64_param' | 'string_param' | 'double_param' | 'uint64_param';
  bool_param?: boolean;
  int64_param?: string;
  string_param?: string;
  double_param?: number;
  uint64_param?: string;
}

type Contents = Partial<Record<ContentsField, unknown[]>>;
type ContentsField =
  | 'bool_contents'
  | 'int_contents'
  | 'int64_contents'
  | 'uint_contents'
  | 'uint64_contents'
  | 'fp32_contents'
  | 'fp64_contents'
  | 'bytes_contents';

export interface GrpcInferRequest {
  model_name: string;
  model_version: string;
  id: string;
  parameters: Record<string, GrpcParameter>;
  inputs: { name: string; datatype: string; shape: string[]; parameters: Record<string, GrpcParameter>; contents?: Contents | null }[];
  outputs: { name: string; parameters: Record<string, GrpcParameter> }[];
  raw_input_contents: Uint8Array[];
}

/** Which typed field carries each datatype; FP16 has none (raw contents only). */
const CONTENTS_FIELD: Record<ProtocolDatatype, ContentsField | undefined> = {
  BOOL: 'bool_contents',
  INT8: 'int_contents',
  INT16: 'int_contents',
  INT32: 'int_contents',
  INT64: 'int64_contents',
  UINT8: 'uint_contents',
  UINT16: 'uint_contents',
  UINT32: 'uint_contents',
  UINT64: 'uint64_contents',
  FP16: undefined,
  FP32: 'fp32_contents',
  FP64: 'fp64_contents',
  BYTES: 'bytes_contents',
};

const INT64_RANGE = { INT64: [-(2n ** 63n), 2n ** 63n - 1n], UINT64: [0n, 2n ** 64n - 1n] } as const;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function invalid(message: string): ProtocolError {
  return new ProtocolError('invalid', message);
}

export interface GrpcRequestContext {
  readonly clientId: string;
  readonly maxTensors: number;
  readonly maxElements: number;
}

function typedContents(name: string, datatype: ProtocolDatatype, count: number, rank: number, contents: Contents): TensorValues {
  const where = `tensor "${name}"`;
  const field = CONTENTS_FIELD[datatype];
  if (field === undefined) throw invalid(`${where}: ${datatype} has no typed contents; send it in raw_input_contents`);
  const present = (Object.keys(contents) as ContentsField[]).filter((f) => (contents[f]?.length ?? 0) > 0);
  const wrong = present.find((f) => f !== field);
  if (wrong) throw invalid(`${where}: a ${datatype} tensor's contents go in ${field}, not ${wrong}`);
  const values = contents[field] ?? [];
  if (values.length !== count) throw invalid(`${where}: ${field} has ${values.length} elements; its shape holds ${count}`);
  if (datatype === 'INT64' || datatype === 'UINT64') {
    const [min, max] = INT64_RANGE[datatype];
    const out = datatype === 'INT64' ? new BigInt64Array(count) : new BigUint64Array(count);
    values.forEach((v, i) => {
      const big = BigInt(v as string); // protobufjs gives 64-bit integers as decimal strings: exact
      if (big < min || big > max) throw invalid(`${where}: element ${i} (${big}) is not a ${datatype} value`);
      out[i] = big;
    });
    return out;
  }
  if (datatype === 'BYTES') {
    return values.map((v, i) => {
      try {
        return utf8.decode(v as Uint8Array);
      } catch (error) {
        throw new ProtocolError('invalid', `${where}: BYTES element ${i} is not UTF-8 text (onnxruntime strings are)`, undefined, {
          cause: error,
        });
      }
    });
  }
  return decodeJsonData(name, datatype, count, values, rank); // numbers and booleans, range-checked as JSON's are
}

/** A parameter's value, whichever of the oneof's fields carries it (tritonclient sends sizes as int64_param). */
function parameterValue(parameter: GrpcParameter | undefined): unknown {
  return parameter?.parameter_choice === undefined ? undefined : parameter[parameter.parameter_choice];
}

function shmOf(parameters: Record<string, GrpcParameter>, where: string): ShmReference | undefined {
  return shmReferenceOf(
    {
      region: parameterValue(parameters.shared_memory_region),
      offset: parameterValue(parameters.shared_memory_offset),
      byteSize: parameterValue(parameters.shared_memory_byte_size),
    },
    where,
  );
}

function hasContents(contents: Contents | null | undefined): boolean {
  return !!contents && Object.values(contents).some((v) => Array.isArray(v) && v.length > 0);
}

function positiveVersion(text: string): number | undefined {
  if (text === '') return undefined;
  if (!/^[1-9]\d{0,15}$/.test(text)) throw invalid(`model_version "${text}" is not a positive integer`);
  return Number(text);
}

function timeoutOf(parameters: Record<string, GrpcParameter>): number | undefined {
  const timeout = parameters.timeout;
  if (timeout === undefined) return undefined;
  const micros = timeout.parameter_choice === 'int64_param' ? Number(timeout.int64_param) : NaN;
  if (!Number.isSafeInteger(micros) || micros <= 0) throw invalid('parameter "timeout" must be a positive int64_param of microseconds');
  return micros / 1000;
}

export function decodeGrpcInferRequest(request: GrpcInferRequest, context: GrpcRequestContext): DecodedInferRequest {
  if (request.model_name === '') throw invalid('model_name is empty');
  const tensorCount = request.inputs.length + request.outputs.length;
  if (tensorCount > context.maxTensors)
    throw new ProtocolError('too_large', `${tensorCount} tensors in one request, over the limit of ${context.maxTensors}`);
  if (shmOf(request.parameters, 'the request')) throw invalid('shared-memory parameters belong to a tensor, not the request');
  const inShm = request.inputs.map((input) => shmOf(input.parameters, `tensor "${input.name}"`));
  // raw_input_contents holds the inputs that are not in shared memory, in order (what tritonclient sends).
  const inline = inShm.filter((ref) => ref === undefined).length;
  const raw = request.raw_input_contents;
  if (raw.length > 0 && raw.length !== inline)
    throw invalid(
      `raw_input_contents has ${raw.length} entries for ${inline} inputs not in shared memory: it holds every such input or none`,
    );
  let rawIndex = 0;
  const inputs: DecodedInput[] = request.inputs.map((input, i) => {
    const where = `tensor "${input.name}"`;
    if (!isProtocolDatatype(input.datatype))
      throw invalid(`${where}: datatype "${input.datatype}" is not one of ${PROTOCOL_DATATYPES.join(', ')}`);
    const shape = input.shape.map(Number);
    const count = elementCount(input.name, shape, context.maxElements);
    const shm = inShm[i];
    if (shm) {
      if (hasContents(input.contents)) throw invalid(`${where}: its data is in shared memory, so it takes no contents`);
      return { name: input.name, datatype: input.datatype, shape, shm };
    }
    if (raw.length > 0) {
      if (hasContents(input.contents)) throw invalid(`${where}: both contents and raw_input_contents are given`);
      const bytes = raw[rawIndex++]!;
      return { name: input.name, datatype: input.datatype, shape, data: decodeBinaryData(input.name, input.datatype, count, bytes) };
    }
    if (!input.contents) throw invalid(`${where}: no contents and no raw_input_contents`);
    return {
      name: input.name,
      datatype: input.datatype,
      shape,
      data: typedContents(input.name, input.datatype, count, shape.length, input.contents),
    };
  });
  const outputs: RequestedOutput[] | undefined =
    request.outputs.length === 0
      ? undefined
      : request.outputs.map((output) => ({ name: output.name, binary: true, shm: shmOf(output.parameters, `output "${output.name}"`) }));
  return {
    model: request.model_name,
    version: positiveVersion(request.model_version),
    id: request.id === '' ? undefined : request.id,
    inputs,
    outputs,
    binaryByDefault: true,
    timeoutMs: timeoutOf(request.parameters),
    clientId: context.clientId,
  };
}

const EMPTY = new Uint8Array(0);

function shmParameters(ref: ShmReference): Record<string, GrpcParameter> {
  return {
    shared_memory_region: { parameter_choice: 'string_param', string_param: ref.region },
    shared_memory_offset: { parameter_choice: 'int64_param', int64_param: String(ref.offset) },
    shared_memory_byte_size: { parameter_choice: 'int64_param', int64_param: String(ref.byteSize) },
  };
}

/** The response, every output in raw_output_contents in the order of `outputs` (what tritonclient.grpc reads). */
export function encodeGrpcInferResponse(response: InferResponse): Record<string, unknown> {
  return {
    model_name: response.model_name,
    model_version: response.model_version,
    id: response.id ?? '',
    outputs: response.outputs.map((o) => ({
      name: o.name,
      datatype: o.datatype,
      shape: o.shape,
      parameters: o.shm ? shmParameters(o.shm) : {},
    })),
    // One entry per output, so tritonclient's index of an output is its index here; one in shared memory is empty.
    raw_output_contents: response.outputs.map((o) => (o.shm ? EMPTY : binaryDataOf(dtypeOf(o.datatype), o.data))),
  };
}
