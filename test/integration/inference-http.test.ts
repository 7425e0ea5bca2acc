/**
 * The inference API over HTTP/REST against a real engine (onnxruntime sessions in worker
 * threads): JSON and binary tensors, versions, errors with their status and the tensor
 * they name, compression, the token, and the metrics' exposition. Python's tritonclient
 * drives the same server in test/python (where a virtual environment has it).
 */
import { gzipSync } from 'node:zlib';
import { MIN_COMPRESSED_BYTES } from '../../src-main/inference/http-body.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../../src-main/engine/index.js';
import { InferenceHttpServer } from '../../src-main/inference/inference-http-server.js';
import { InferenceService } from '../../src-main/inference/inference-service.js';
import { SharedMemoryRegions } from '../../src-main/inference/shm/shared-memory-regions.js';
import { SwitchboardMetrics } from '../../src-main/metrics/metrics-registry.js';
import { TokenAuth } from '../../src-main/server/token-auth.js';
import { mixedDtypeModel, smallMlp } from '../fixtures/models.js';

const auth = new TokenAuth('test-token-0123456789abcdef');
const bearer = { Authorization: `Bearer ${auth.token}` };
let engine: Engine;
let server: InferenceHttpServer;
let metrics: SwitchboardMetrics;

beforeAll(async () => {
  engine = new Engine();
  await engine.loadModel({ name: 'mlp', source: smallMlp(), config: { workers: { count: 1 } } });
  await engine.loadModel({ name: 'mixed', source: mixedDtypeModel(), config: { workers: { count: 1 } } });
  server = new InferenceHttpServer({
    service: new InferenceService(engine, undefined, 'test', new SharedMemoryRegions()),
    auth,
    port: 0,
    limits: { maxBodyBytes: 1 << 20 },
  });
  await server.start();
  metrics = new SwitchboardMetrics({ engine, traffic: [server.traffic] });
}, 60_000);

afterAll(async () => {
  await server.stop();
  metrics.stop();
  await engine.stop();
});

function post(path: string, body: Buffer | string, headers: Record<string, string> = {}) {
  return fetch(`${server.url}${path}`, {
    method: 'POST',
    body: typeof body === 'string' ? body : new Uint8Array(body),
    headers: { ...bearer, ...headers },
  });
}

describe('inference API over HTTP', () => {
  it('answers health without the token and everything else only with it', async () => {
    expect((await fetch(`${server.url}/v2/health/live`)).status).toBe(200);
    expect((await fetch(`${server.url}/v2/health/ready`)).status).toBe(200);
    const refused = await fetch(`${server.url}/v2`);
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { error: string }).error).toContain('token');
    const metadata = (await (await fetch(`${server.url}/v2`, { headers: bearer })).json()) as { extensions: string[] };
    expect(metadata.extensions).toEqual(['binary_tensor_data', 'statistics', 'model_configuration', 'system_shared_memory']);
  });

  it('runs a JSON request, nested data included, as the engine runs it, and echoes the id', async () => {
    const obs = Array.from({ length: 32 }, (_, i) => i / 10);
    const direct = await engine.infer('mlp', { obs: { data: Float32Array.from(obs), dims: [2, 16] } });
    const nested = [obs.slice(0, 16), obs.slice(16)];
    const res = await post(
      '/v2/models/mlp/infer',
      JSON.stringify({ id: 'r1', inputs: [{ name: 'obs', shape: [2, 16], datatype: 'FP32', data: nested }] }),
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as { id: string; model_version: string; outputs: { name: string; shape: number[]; data: number[] }[] };
    expect(body.id).toBe('r1');
    expect(body.model_version).toBe('1');
    const [name] = Object.keys(direct.outputs);
    expect(body.outputs[0]!.name).toBe(name);
    expect(body.outputs[0]!.shape).toEqual(direct.outputs[name!]!.dims);
    expect(body.outputs[0]!.data).toEqual([...(direct.outputs[name!]!.data as Float32Array)]);
  });

  it('takes binary inputs and answers binary outputs, int64 and bool exact, a gzip body included', async () => {
    const header = JSON.stringify({
      inputs: [
        { name: 'i64', shape: [1, 2], datatype: 'INT64', parameters: { binary_data_size: 16 } },
        { name: 'flag', shape: [1, 3], datatype: 'BOOL', data: [true, false, true] },
      ],
      outputs: [{ name: 'i64_out', parameters: { binary_data: true } }, { name: 'flag_out' }],
    });
    const big = new BigInt64Array([3_000_000_000n, -7n]);
    const body = Buffer.concat([Buffer.from(header), Buffer.from(big.buffer)]);
    // The other inputs of the model are required too; a missing one is named.
    const missing = await post('/v2/models/mixed/infer', body, { 'Inference-Header-Content-Length': String(Buffer.byteLength(header)) });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { error: string }).error).toMatch(/"f32"/);

    const full = JSON.stringify({
      inputs: [
        { name: 'f32', shape: [1, 3], datatype: 'FP32', data: [1, 2, 3] },
        { name: 'f64', shape: [1, 2], datatype: 'FP64', data: [1, 2] },
        { name: 'i32', shape: [1, 4], datatype: 'INT32', data: [1, 2, 3, 4] },
        { name: 'i64', shape: [1, 2], datatype: 'INT64', parameters: { binary_data_size: 16 } },
        { name: 'u8', shape: [1, 5], datatype: 'UINT8', data: [0, 1, 2, 3, 255] },
        { name: 'flag', shape: [1, 3], datatype: 'BOOL', data: [true, false, true] },
      ],
      outputs: [{ name: 'i64_out', parameters: { binary_data: true } }, { name: 'flag_out' }],
    });
    const gz = gzipSync(Buffer.concat([Buffer.from(full), Buffer.from(big.buffer)]));
    const res = await post('/v2/models/mixed/infer', gz, {
      'Inference-Header-Content-Length': String(Buffer.byteLength(full)),
      'Content-Encoding': 'gzip',
      'Accept-Encoding': 'gzip',
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-encoding')).toBeNull(); // under MIN_COMPRESSED_BYTES: not worth compressing
    const raw = Buffer.from(await res.arrayBuffer());
    const jsonLength = Number(res.headers.get('inference-header-content-length'));
    const json = JSON.parse(raw.subarray(0, jsonLength).toString()) as {
      outputs: { name: string; parameters?: { binary_data_size: number }; data?: unknown }[];
    };
    expect(json.outputs.map((o) => o.name)).toEqual(['i64_out', 'flag_out']);
    expect(json.outputs[0]!.parameters).toEqual({ binary_data_size: 16 });
    expect(json.outputs[1]!.data).toEqual([false, true, false]);
    const squared = new BigInt64Array(raw.buffer.slice(raw.byteOffset + jsonLength, raw.byteOffset + jsonLength + 16));
    expect([...squared]).toEqual([9_000_000_000_000_000_000n, 49n]);
  });

  it('compresses an answer over MIN_COMPRESSED_BYTES with the encoding the client accepts', async () => {
    const rows = 64;
    const body = JSON.stringify({
      inputs: [{ name: 'obs', shape: [rows, 16], datatype: 'FP32', data: new Array<number>(rows * 16).fill(0.5) }],
    });
    const plain = await post('/v2/models/mlp/infer', body);
    const plainText = await plain.text();
    expect(Buffer.byteLength(plainText)).toBeGreaterThan(MIN_COMPRESSED_BYTES);
    for (const encoding of ['gzip', 'deflate']) {
      const res = await post('/v2/models/mlp/infer', body, { 'Accept-Encoding': `br;q=1, ${encoding}` });
      expect(res.headers.get('content-encoding')).toBe(encoding);
      expect(await res.text()).toBe(plainText); // fetch has decompressed it
    }
    const refused = await post('/v2/models/mlp/infer', body, { 'Accept-Encoding': 'gzip;q=0' });
    expect(refused.headers.get('content-encoding')).toBeNull();
  });

  it('answers bad requests with the status of their kind, naming the tensor, and keeps serving', async () => {
    const infer = (body: unknown) => post('/v2/models/mlp/infer', JSON.stringify(body));
    const cases: [unknown, number, RegExp][] = [
      [{ inputs: [{ name: 'obs', shape: [1, 15], datatype: 'FP32', data: new Array(15).fill(0) }] }, 400, /"obs"/],
      [{ inputs: [{ name: 'obs', shape: [1, 16], datatype: 'FP32', data: new Array(15).fill(0) }] }, 400, /tensor "obs".*15 elements/],
      [{ inputs: [{ name: 'obs', shape: [1, 16], datatype: 'INT32', data: new Array(16).fill(0) }] }, 400, /tensor "obs": datatype INT32/],
      [{ inputs: [{ name: 'obs', shape: [1, 16], datatype: 'FP32', data: new Array(16).fill('a') }] }, 400, /tensor "obs": element 0/],
      [{ inputs: [{ name: 'obs', shape: [-1, 16], datatype: 'FP32', data: [] }] }, 400, /tensor "obs": shape/],
      [{ inputs: [{ name: 'nope', shape: [1], datatype: 'FP32', data: [1] }] }, 400, /"nope"/],
      [
        { inputs: [{ name: 'obs', shape: [1, 16], datatype: 'FP32', data: new Array(16).fill(0) }], outputs: [{ name: 'zz' }] },
        400,
        /output "zz"/,
      ],
      [{ inputs: 'x' }, 400, /inputs/],
    ];
    for (const [body, status, message] of cases) {
      const res = await infer(body);
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(((await res.json()) as { error: string }).error).toMatch(message);
    }
    expect((await post('/v2/models/mlp/infer', '{not json')).status).toBe(400);
    expect((await post('/v2/models/ghost/infer', '{}')).status).toBe(404);
    expect((await post('/v2/models/mlp/versions/9/infer', JSON.stringify(cases[0]![0]))).status).toBe(404);
    expect((await post('/v2/models/mlp/infer', Buffer.alloc(2 << 20))).status).toBe(413);
    expect((await fetch(`${server.url}/v2/models/mlp/infer`, { headers: bearer })).status).toBe(405);
    const ok = await infer({ inputs: [{ name: 'obs', shape: [1, 16], datatype: 'FP32', data: new Array(16).fill(0) }] });
    expect(ok.status).toBe(200);
  });

  it("reports statistics and configuration in Triton's shape, and metrics that name the model", async () => {
    const stats = (await (await fetch(`${server.url}/v2/models/mlp/stats`, { headers: bearer })).json()) as {
      model_stats: { name: string; version: string; inference_count: number; inference_stats: { success: { count: number } } }[];
    };
    expect(stats.model_stats[0]).toMatchObject({ name: 'mlp', version: '1' });
    expect(stats.model_stats[0]!.inference_stats.success.count).toBeGreaterThanOrEqual(2);
    const config = (await (await fetch(`${server.url}/v2/models/mlp/config`, { headers: bearer })).json()) as Record<string, unknown>;
    expect(config).toMatchObject({ name: 'mlp', platform: 'onnxruntime_onnx', input: [{ name: 'obs', data_type: 'TYPE_FP32' }] });
    const text = await metrics.scrape();
    expect(text).toMatch(/^nv_inference_count\{model="mlp",version="1"\} \d+/m);
    expect(text).toMatch(/^# TYPE switchboard_protocol_request_duration_seconds histogram/m);
    expect(text).toMatch(/^switchboard_protocol_requests_total\{protocol="http",status="400"\} \d+/m);
  });
});
