/**
 * The gRPC service definition grpc-js serves, made from SERVICE_PROTO with protobufjs (a
 * dependency already, for ONNX): each RPC's path and its (de)serialisers. Decoding gives
 * plain objects in the proto's own field names, 64-bit integers as decimal strings (exact;
 * JavaScript numbers are not), bytes as Buffers, and every field present with its default,
 * so the handlers never test for absence.
 */
import type { ServiceDefinition } from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { ProtocolError } from '../protocol-error.js';
import { RPCS, SERVICE_NAME, SERVICE_PROTO, type RpcName } from './service-proto.js';

const root = protobuf.parse(SERVICE_PROTO, { keepCase: true }).root;

const DECODE_OPTIONS: protobuf.IConversionOptions = { longs: String, defaults: true, arrays: true, objects: true, oneofs: true };

function type(name: string): protobuf.Type {
  return root.lookupType(`inference.${name}`);
}

/** A request that is not the message it claims to be is the client's error, not a crash. */
export class MalformedMessageError extends ProtocolError {
  constructor(message: string, cause: unknown) {
    super('invalid', message, undefined, { cause });
  }
}

/**
 * A message that does not decode becomes a MalformedMessageError in the request's place
 * (not a throw: grpc-js would answer INTERNAL), so that the handler refuses it with
 * INVALID_ARGUMENT and says why.
 */
function deserializer(name: string): (bytes: Buffer) => unknown {
  const t = type(name);
  return (bytes) => {
    try {
      return t.toObject(t.decode(bytes), DECODE_OPTIONS);
    } catch (error) {
      if (!(error instanceof Error)) throw error;
      return new MalformedMessageError(`the ${name} does not decode: ${error.message}`, error);
    }
  };
}

function serializer(name: string): (value: unknown) => Buffer {
  const t = type(name);
  return (value) => {
    const message = t.fromObject(value as Record<string, unknown>);
    const bytes = t.encode(message).finish();
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  };
}

export const GRPC_SERVICE: ServiceDefinition = Object.fromEntries(
  (Object.keys(RPCS) as RpcName[]).map((name) => {
    const rpc = RPCS[name];
    return [
      name,
      {
        path: `/${SERVICE_NAME}/${name}`,
        requestStream: rpc.stream,
        responseStream: rpc.stream,
        requestSerialize: serializer(rpc.request),
        requestDeserialize: deserializer(rpc.request),
        responseSerialize: serializer(rpc.response),
        responseDeserialize: deserializer(rpc.response),
        originalName: name,
      },
    ];
  }),
);
