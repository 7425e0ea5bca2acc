/**
 * An HTTP/REST inference request's body to a DecodedInferRequest, and an InferResponse to
 * its body: the protocol's JSON, with the binary tensor data extension (the JSON header is
 * `Inference-Header-Content-Length` bytes long and the tensors' bytes follow it, in the
 * order of the tensors that carry `binary_data_size`). The JSON's shape is checked by a
 * schema (zod) before any field is read; every error names the tensor it is about.
 */
import { z } from 'zod';
import { binaryDataOf, decodeBinaryData, decodeJsonData, elementCount, jsonDataOf } from './tensor-codec.js';
import { isProtocolDatatype, PROTOCOL_DATATYPES } from './datatypes.js';
import { ProtocolError } from './protocol-error.js';
import type { DecodedInferRequest, DecodedInput, InferResponse, RequestedOutput } from './protocol-types.js';
import type { ShmReference } from './shm/shared-memory-regions.js';
import { shmReferenceOf } from './shm/shm-parameters.js';

export interface InferLimits {
  /** Tensors in one request at most (inputs, and outputs asked for). */
  readonly maxTensors: number;
  /** Elements of one tensor at most. */
  readonly maxElements: number;
}

// Parameters are open-ended in the protocol; the ones read here are typed, the rest ignored as Triton does.
const Parameters = z.record(z.string(), z.unknown()).optional();

const InputSchema = z.object({
  name: z.string().min(1).max(256),
  shape: z.array(z.unknown()),
  datatype: z.string(),
  parameters: Parameters,
  data: z.unknown().optional(),
});

const OutputSchema = z.object({ name: z.string().min(1).max(256), parameters: Parameters });

const RequestSchema = z.object({
  id: z.string().max(1024).optional(),
  parameters: Parameters,
  inputs: z.array(InputSchema).min(1),
  outputs: z.array(OutputSchema).optional(),
});

type RequestJson = z.infer<typeof RequestSchema>;

/** Where in the JSON a schema issue is, with the tensor's name when it has one. */
function describePath(json: unknown, path: readonly PropertyKey[]): string {
  if ((path[0] === 'inputs' || path[0] === 'outputs') && typeof path[1] === 'number') {
    const list = (json as Record<string, unknown>)[path[0]];
    const name = Array.isArray(list) ? (list[path[1]] as { name?: unknown } | undefined)?.name : undefined;
    const rest = path.slice(2).map(String).join('.');
    const which = typeof name === 'string' ? `tensor "${name}"` : `${path[0]}[${path[1]}]`;
    return rest ? `${which}: "${rest}"` : which;
  }
  return path.length > 0 ? `"${path.map(String).join('.')}"` : 'the request';
}

function parseHeader(text: string): RequestJson {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ProtocolError('invalid', `the request's JSON does not parse: ${(error as Error).message}`, undefined, { cause: error });
  }
  const parsed = RequestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ProtocolError('invalid', `${describePath(json, issue.path)}: ${issue.message}`);
  }
  return parsed.data;
}

function boolParameter(parameters: Record<string, unknown> | undefined, key: string, where: string): boolean | undefined {
  const value = parameters?.[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw new ProtocolError('invalid', `${where}: parameter "${key}" must be true or false`);
  return value;
}

function shmOf(parameters: Record<string, unknown> | undefined, where: string): ShmReference | undefined {
  if (!parameters) return undefined;
  return shmReferenceOf(
    { region: parameters.shared_memory_region, offset: parameters.shared_memory_offset, byteSize: parameters.shared_memory_byte_size },
    where,
  );
}

export interface HttpRequestContext {
  readonly model: string;
  readonly version: number | undefined;
  readonly clientId: string;
  readonly limits: InferLimits;
}

/** Decode a request body; `headerLength` is the Inference-Header-Content-Length (absent: the body is all JSON). */
export function decodeHttpInferRequest(body: Buffer, headerLength: number | undefined, context: HttpRequestContext): DecodedInferRequest {
  if (headerLength !== undefined && (headerLength > body.byteLength || headerLength < 0))
    throw new ProtocolError('invalid', `Inference-Header-Content-Length ${headerLength} is beyond the body's ${body.byteLength} bytes`);
  const jsonEnd = headerLength ?? body.byteLength;
  const json = parseHeader(body.toString('utf8', 0, jsonEnd));
  const tensorCount = json.inputs.length + (json.outputs?.length ?? 0);
  if (tensorCount > context.limits.maxTensors)
    throw new ProtocolError('too_large', `${tensorCount} tensors in one request, over the limit of ${context.limits.maxTensors}`);
  if (shmOf(json.parameters, 'the request'))
    throw new ProtocolError('invalid', 'shared-memory parameters belong to a tensor, not the request');
  let at = jsonEnd;
  const inputs: DecodedInput[] = json.inputs.map((input) => {
    const where = `tensor "${input.name}"`;
    if (!isProtocolDatatype(input.datatype))
      throw new ProtocolError('invalid', `${where}: datatype "${input.datatype}" is not one of ${PROTOCOL_DATATYPES.join(', ')}`);
    const count = elementCount(input.name, input.shape, context.limits.maxElements);
    const shape = input.shape as number[]; // checked by elementCount
    const binarySize = input.parameters?.binary_data_size;
    const shm = shmOf(input.parameters, where);
    if (shm) {
      if (input.data !== undefined || binarySize !== undefined)
        throw new ProtocolError('invalid', `${where}: its data is in shared memory, so it takes no "data" or binary_data_size`);
      return { name: input.name, datatype: input.datatype, shape, shm };
    }
    if (binarySize === undefined) {
      if (input.data === undefined) throw new ProtocolError('invalid', `${where}: no "data" and no binary_data_size`);
      return {
        name: input.name,
        datatype: input.datatype,
        shape,
        data: decodeJsonData(input.name, input.datatype, count, input.data, shape.length),
      };
    }
    if (input.data !== undefined) throw new ProtocolError('invalid', `${where}: both "data" and binary_data_size are given`);
    if (typeof binarySize !== 'number' || !Number.isSafeInteger(binarySize) || binarySize < 0)
      throw new ProtocolError('invalid', `${where}: binary_data_size must be a non-negative integer`);
    if (headerLength === undefined)
      throw new ProtocolError('invalid', `${where}: binary_data_size needs the Inference-Header-Content-Length header`);
    if (at + binarySize > body.byteLength)
      throw new ProtocolError('invalid', `${where}: binary_data_size ${binarySize} runs past the end of the body`);
    const bytes = body.subarray(at, at + binarySize);
    at += binarySize;
    return { name: input.name, datatype: input.datatype, shape, data: decodeBinaryData(input.name, input.datatype, count, bytes) };
  });
  if (at !== body.byteLength) throw new ProtocolError('invalid', `${body.byteLength - at} bytes after the last tensor's binary data`);
  const binaryByDefault = boolParameter(json.parameters, 'binary_data_output', 'the request') ?? false;
  const outputs: RequestedOutput[] | undefined = json.outputs?.map((output) => {
    const where = `output "${output.name}"`;
    const shm = shmOf(output.parameters, where);
    return { name: output.name, binary: boolParameter(output.parameters, 'binary_data', where) ?? binaryByDefault, shm };
  });
  return {
    model: context.model,
    version: context.version,
    id: json.id,
    inputs,
    outputs,
    binaryByDefault,
    timeoutMs: timeoutOf(json.parameters),
    clientId: context.clientId,
  };
}

/** `parameters.timeout`, in microseconds as Triton takes it, as the engine's milliseconds. */
function timeoutOf(parameters: Record<string, unknown> | undefined): number | undefined {
  const timeout = parameters?.timeout;
  if (timeout === undefined) return undefined;
  if (typeof timeout !== 'number' || !Number.isSafeInteger(timeout) || timeout <= 0)
    throw new ProtocolError('invalid', 'parameter "timeout" must be a positive integer of microseconds');
  return timeout / 1000;
}

export interface EncodedResponse {
  readonly chunks: Uint8Array[];
  /** The JSON's length when binary tensors follow it (the Inference-Header-Content-Length). */
  readonly headerLength: number | undefined;
}

/** The response body, written by hand so that int64 stays exact (see jsonDataOf), with binary outputs after it. */
export function encodeHttpInferResponse(response: InferResponse): EncodedResponse {
  const binaries: Uint8Array[] = [];
  const outputs = response.outputs.map((o) => {
    const head = `{"name":${JSON.stringify(o.name)},"datatype":"${o.datatype}","shape":[${o.shape.join(',')}]`;
    if (o.shm) return `${head},"parameters":${JSON.stringify(shmParameters(o.shm))}}`; // the data is in the region
    if (!o.binary) return `${head},"data":${jsonDataOf(o.dtype, o.data)}}`;
    const bytes = binaryDataOf(o.dtype, o.data);
    binaries.push(bytes);
    return `${head},"parameters":{"binary_data_size":${bytes.byteLength}}}`;
  });
  const id = response.id !== undefined ? `,"id":${JSON.stringify(response.id)}` : '';
  const header = Buffer.from(
    `{"model_name":${JSON.stringify(response.model_name)},"model_version":${JSON.stringify(response.model_version)}${id},"outputs":[${outputs.join(',')}]}`,
  );
  return { chunks: [header, ...binaries], headerLength: binaries.length > 0 ? header.byteLength : undefined };
}

/** An output's shared-memory parameters as the response names them (the request's, echoed). */
function shmParameters(ref: ShmReference): Record<string, string | number> {
  return { shared_memory_region: ref.region, shared_memory_offset: ref.offset, shared_memory_byte_size: ref.byteSize };
}
