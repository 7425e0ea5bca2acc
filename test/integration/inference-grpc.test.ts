/**
 * The inference API over gRPC against a real engine, at the level tritonclient does not
 * reach: bytes that are no protobuf message, an RPC the server does not have, a typed
 * contents field of the wrong type, and the stream's end. tritonclient.grpc drives the
 * product itself in test/python/test_grpc.py.
 */
import { credentials, Metadata, status, type Client, type ServiceError, makeGenericClientConstructor } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DTYPES } from '../../src-main/engine/dtypes.js';
import { Engine } from '../../src-main/engine/index.js';
import { InferenceGrpcServer } from '../../src-main/inference/grpc/inference-grpc-server.js';
import { GRPC_SERVICE } from '../../src-main/inference/grpc/grpc-service-definition.js';
import { resolveLimits } from '../../src-main/inference/inference-http-server.js';
import { InferenceService } from '../../src-main/inference/inference-service.js';
import { SharedMemoryRegions } from '../../src-main/inference/shm/shared-memory-regions.js';
import { TokenAuth } from '../../src-main/server/token-auth.js';
import { identityPerDtypeModel, smallMlp } from '../fixtures/models.js';

const auth = new TokenAuth('test-token-0123456789abcdef');
let engine: Engine;
let server: InferenceGrpcServer;
let raw: Client;

const identity = (b: Buffer) => b;

function metadata(token = auth.token): Metadata {
  const m = new Metadata();
  m.set('authorization', `Bearer ${token}`);
  return m;
}

/** A unary call with bytes as they are, so that the server sees exactly what is sent. */
function callRaw(rpc: string, bytes: Buffer): Promise<{ error: ServiceError | null; reply?: Buffer }> {
  return new Promise((resolve) =>
    raw.makeUnaryRequest(`/inference.GRPCInferenceService/${rpc}`, identity, identity, bytes, metadata(), (error, reply) =>
      resolve({ error, reply }),
    ),
  );
}

const encode = (rpc: keyof typeof GRPC_SERVICE, value: unknown) => GRPC_SERVICE[rpc]!.requestSerialize(value);
const decodeReply = (rpc: keyof typeof GRPC_SERVICE, bytes: Buffer) =>
  GRPC_SERVICE[rpc]!.responseDeserialize(bytes) as Record<string, unknown>;

beforeAll(async () => {
  engine = new Engine();
  await engine.loadModel({ name: 'mlp', source: smallMlp(), config: { workers: { count: 1 } } });
  // Every dtype but float16, which has no typed contents field (it comes raw only).
  const typed = DTYPES.filter((t) => t !== 'float16');
  // Two requests a client, then about one every 100 s: the third is refused whichever connection it takes.
  await engine.loadModel({
    name: 'limited',
    source: smallMlp(),
    config: { workers: { count: 1 }, rateLimit: { perClient: { ratePerSecond: 0.01, burst: 2 } } },
  });
  await engine.loadModel({ name: 'typed', source: identityPerDtypeModel(typed), config: { workers: { count: 1 } } });
  server = new InferenceGrpcServer({
    service: new InferenceService(engine, undefined, 'test', new SharedMemoryRegions()),
    auth,
    port: 0,
    limits: resolveLimits({}),
  });
  await server.start();
  raw = new (makeGenericClientConstructor({}, 'raw'))(server.address, credentials.createInsecure());
}, 60_000);

afterAll(async () => {
  raw.close();
  await server.stop();
  await engine.stop();
});

describe('inference API over gRPC', () => {
  it('answers a request that is no protobuf message with an error, and keeps serving', async () => {
    const garbage = await callRaw('ModelInfer', Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01]));
    expect(garbage.error?.code).toBe(status.INVALID_ARGUMENT);
    expect(garbage.error?.details).toMatch(/^the ModelInferRequest does not decode: /);
    const live = await callRaw('ServerLive', encode('ServerLive', {}));
    expect(live.error).toBeNull();
    expect(decodeReply('ServerLive', live.reply!)).toEqual({ live: true });
  });

  it('says UNIMPLEMENTED for an RPC it does not serve', async () => {
    const { error } = await callRaw('CudaSharedMemoryStatus', Buffer.alloc(0));
    expect(error?.code).toBe(status.UNIMPLEMENTED);
  });

  it('refuses typed contents in the wrong field, naming the tensor, and takes them in the right one', async () => {
    const request = (contents: Record<string, unknown>) =>
      encode('ModelInfer', { model_name: 'mlp', inputs: [{ name: 'obs', datatype: 'FP32', shape: [1, 16], contents }] });
    const wrong = await callRaw('ModelInfer', request({ int_contents: new Array<number>(16).fill(1) }));
    expect(wrong.error?.code).toBe(status.INVALID_ARGUMENT);
    expect(wrong.error?.details).toBe('tensor "obs": a FP32 tensor\'s contents go in fp32_contents, not int_contents');
    const short = await callRaw('ModelInfer', request({ fp32_contents: [1, 2] }));
    expect(short.error?.details).toBe('tensor "obs": fp32_contents has 2 elements; its shape holds 16');
    const right = await callRaw('ModelInfer', request({ fp32_contents: new Array<number>(16).fill(0.5) }));
    expect(right.error).toBeNull();
    const reply = decodeReply('ModelInfer', right.reply!);
    const direct = await engine.infer('mlp', { obs: { data: new Float32Array(16).fill(0.5), dims: [1, 16] } });
    const [name] = Object.keys(direct.outputs);
    const bytes = (reply.raw_output_contents as Buffer[])[0]!;
    expect([...new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength))]).toEqual([
      ...(direct.outputs[name!]!.data as Float32Array),
    ]);
  });

  it('takes typed contents of every datatype that has them, 64-bit integers exact, and gives them back raw', async () => {
    // Per datatype: the contents field, the values sent (as protobufjs takes them), and the bytes expected back.
    const cases = [
      ['bool', 'BOOL', 'bool_contents', [true, false, true], new Uint8Array([1, 0, 1])],
      ['uint8', 'UINT8', 'uint_contents', [0, 7, 255], new Uint8Array([0, 7, 255])],
      ['uint16', 'UINT16', 'uint_contents', [0, 300, 65535], new Uint16Array([0, 300, 65535])],
      ['uint32', 'UINT32', 'uint_contents', [0, 70000, 4294967295], new Uint32Array([0, 70000, 4294967295])],
      [
        'uint64',
        'UINT64',
        'uint64_contents',
        ['0', '9007199254740993', '18446744073709551615'],
        new BigUint64Array([0n, 2n ** 53n + 1n, 2n ** 64n - 1n]),
      ],
      ['int8', 'INT8', 'int_contents', [-128, 0, 127], new Int8Array([-128, 0, 127])],
      ['int16', 'INT16', 'int_contents', [-32768, 1, 32767], new Int16Array([-32768, 1, 32767])],
      ['int32', 'INT32', 'int_contents', [-2147483648, 2, 2147483647], new Int32Array([-2147483648, 2, 2147483647])],
      [
        'int64',
        'INT64',
        'int64_contents',
        ['-9223372036854775808', '-9007199254740993', '9223372036854775807'],
        new BigInt64Array([-(2n ** 63n), -(2n ** 53n) - 1n, 2n ** 63n - 1n]),
      ],
      ['float32', 'FP32', 'fp32_contents', [0.5, -2.25, 3e38], new Float32Array([0.5, -2.25, 3e38])],
      ['float64', 'FP64', 'fp64_contents', [0.1, -1e300, 5e-324], new Float64Array([0.1, -1e300, 5e-324])],
    ] as const;
    const strings = ['', 'héllo', '☃'];
    const inputs = [
      ...cases.map(([type, datatype, field, values]) => ({ name: `x_${type}`, datatype, shape: [1, 3], contents: { [field]: values } })),
      { name: 'x_string', datatype: 'BYTES', shape: [1, 3], contents: { bytes_contents: strings.map((t) => Buffer.from(t)) } },
      { name: 'x_float16', datatype: 'FP16', shape: [1, 3], contents: { fp32_contents: [1, 2, 3] } }, // FP16 has no typed contents: it must come raw, so this one is refused
    ];
    const refused = await callRaw('ModelInfer', encode('ModelInfer', { model_name: 'typed', inputs }));
    expect(refused.error?.details).toBe('tensor "x_float16": FP16 has no typed contents; send it in raw_input_contents');
    const { error, reply } = await callRaw(
      'ModelInfer',
      encode('ModelInfer', {
        model_name: 'typed',
        inputs: inputs.slice(0, -1),
        outputs: inputs.slice(0, -1).map((i) => ({ name: i.name.replace('x_', 'y_') })),
      }),
    );
    expect(error).toBeNull();
    const answer = decodeReply('ModelInfer', reply!) as { outputs: { name: string; datatype: string }[]; raw_output_contents: Buffer[] };
    cases.forEach(([type, datatype, , , expected], i) => {
      expect(answer.outputs[i]).toMatchObject({ name: `y_${type}`, datatype });
      expect(answer.raw_output_contents[i]!.equals(Buffer.from(expected.buffer))).toBe(true);
    });
    const bytes = answer.raw_output_contents[cases.length]!; // BYTES: each element a 4-byte length and its UTF-8
    expect(
      bytes.equals(Buffer.concat(strings.flatMap((t) => [Buffer.from(new Uint32Array([Buffer.byteLength(t)]).buffer), Buffer.from(t)]))),
    ).toBe(true);
    const outOfRange = await callRaw(
      'ModelInfer',
      encode('ModelInfer', {
        model_name: 'typed',
        inputs: [{ name: 'x_uint8', datatype: 'UINT8', shape: [1, 3], contents: { uint_contents: [1, 2, 256] } }],
      }),
    );
    expect(outOfRange.error?.details).toBe('tensor "x_uint8": element 2 (256) is not a UINT8 value');
  });

  it('ends a stream after its last answer, once the client has ended it', async () => {
    const call = raw.makeBidiStreamRequest('/inference.GRPCInferenceService/ModelStreamInfer', identity, identity, metadata());
    const answers: Record<string, unknown>[] = [];
    const ended = new Promise<void>((resolve) => call.on('end', resolve));
    call.on('data', (b: Buffer) => answers.push(decodeReply('ModelStreamInfer', b)));
    for (const id of ['a', 'b']) {
      call.write(
        encode('ModelInfer', {
          model_name: 'mlp',
          id,
          inputs: [{ name: 'obs', datatype: 'FP32', shape: [1, 16], contents: { fp32_contents: new Array<number>(16).fill(1) } }],
        }),
      );
    }
    await expect.poll(() => server.traffic.snapshot().openStreams).toBe(1);
    call.write(encode('ModelInfer', { model_name: 'nope', id: 'c', inputs: [] }));
    call.write(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01])); // no message at all: answered, the stream goes on
    call.end();
    await ended;
    expect(answers.map((a) => (a.infer_response as { id: string }).id).sort()).toEqual(['', 'a', 'b', 'c']);
    expect(answers.find((a) => (a.infer_response as { id: string }).id === '')!.error_message).toMatch(/does not decode/);
    expect(answers.find((a) => (a.infer_response as { id: string }).id === 'c')!.error_message).toMatch(/nope/);
    await expect.poll(() => server.traffic.snapshot().openStreams).toBe(0);
  });

  it('rate-limits a client by its address, not by its connection, with UNAVAILABLE', async () => {
    const request = encode('ModelInfer', {
      model_name: 'limited',
      inputs: [{ name: 'obs', datatype: 'FP32', shape: [1, 16], contents: { fp32_contents: new Array<number>(16).fill(1) } }],
    });
    const codes: (number | undefined)[] = [];
    for (let i = 0; i < 3; i++) {
      const fresh = new (makeGenericClientConstructor({}, 'fresh'))(server.address, credentials.createInsecure());
      codes.push(
        await new Promise<number | undefined>((resolve) =>
          fresh.makeUnaryRequest('/inference.GRPCInferenceService/ModelInfer', identity, identity, request, metadata(), (e) =>
            resolve(e?.code),
          ),
        ),
      );
      fresh.close();
    }
    expect(codes).toEqual([undefined, undefined, status.UNAVAILABLE]);
  });

  it('refuses every RPC but the health probes without the token', async () => {
    const refused = await new Promise<ServiceError | null>((resolve) =>
      raw.makeUnaryRequest(
        '/inference.GRPCInferenceService/ServerMetadata',
        identity,
        identity,
        encode('ServerMetadata', {}),
        metadata('wrong'),
        (e) => resolve(e),
      ),
    );
    expect(refused?.code).toBe(status.UNAUTHENTICATED);
    expect(server.traffic.snapshot().byStatus.UNAUTHENTICATED).toBeGreaterThanOrEqual(1);
  });
});
