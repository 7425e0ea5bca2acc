/**
 * The Open Inference Protocol's tensor encodings, without a server: half floats as numpy
 * rounds them, BYTES elements, exact int64 in JSON, every check naming its tensor, and
 * the routes that must never take one path for another.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync, inflateSync } from 'node:zlib';
import { compress } from '../../src-main/inference/http-body.js';
import { describe, expect, it } from 'vitest';
import { fromHalfBits, toHalfBits } from '../../src-main/inference/half-float.js';
import { matchRoute } from '../../src-main/inference/http-routes.js';
import { binaryDataOf, decodeBinaryData, decodeJsonData, elementCount, jsonDataOf } from '../../src-main/inference/tensor-codec.js';
import { SWITCHBOARD_VERSION } from '../../src-main/version.js';

describe('tensor codec', () => {
  it('rounds to half precision to nearest, ties to even, and reads the bits back', () => {
    expect(toHalfBits(1)).toBe(0x3c00);
    expect(toHalfBits(-2)).toBe(0xc000);
    expect(toHalfBits(65504)).toBe(0x7bff);
    expect(toHalfBits(1e6)).toBe(0x7c00); // over the largest half: Infinity
    expect(toHalfBits(2 ** -24)).toBe(0x0001); // the smallest subnormal
    expect(toHalfBits(1 + 2 ** -11)).toBe(0x3c00); // a tie goes to the even mantissa
    expect(toHalfBits(1 + 3 * 2 ** -11)).toBe(0x3c02);
    expect(Number.isNaN(fromHalfBits(toHalfBits(NaN)))).toBe(true);
    for (const bits of [0x0001, 0x03ff, 0x3555, 0x7bff, 0x8400]) expect(toHalfBits(fromHalfBits(bits))).toBe(bits);
  });

  it('decodes JSON data of each kind and refuses what does not fit, naming the tensor', () => {
    expect([...(decodeJsonData('t', 'INT64', 2, [[1], [-2]], 2) as BigInt64Array)]).toEqual([1n, -2n]);
    expect([...(decodeJsonData('t', 'BOOL', 2, [true, false], 1) as Uint8Array)]).toEqual([1, 0]);
    expect(decodeJsonData('t', 'BYTES', 1, ['héllo'], 1)).toEqual(['héllo']);
    expect(() => decodeJsonData('t', 'UINT8', 1, [256], 1)).toThrow('tensor "t": element 0 (256) is not a UINT8 value');
    // 2^63 - 1 parses to the double 2^63: refused rather than served wrapped or rounded.
    expect(() => decodeJsonData('t', 'INT64', 1, [JSON.parse('9223372036854775807')], 1)).toThrow('tensor "t": element 0 is beyond ±2^53');
    expect(() => decodeJsonData('t', 'UINT64', 1, [2 ** 53], 1)).toThrow('send UINT64 so large as binary data');
    expect([...(decodeJsonData('t', 'UINT64', 1, [2 ** 53 - 1], 1) as BigUint64Array)]).toEqual([2n ** 53n - 1n]);
    expect(() => decodeJsonData('t', 'FP32', 2, [1], 1)).toThrow('tensor "t": "data" has 1 elements; its shape holds 2');
    expect(() => decodeJsonData('t', 'FP32', 1, [[[1]]], 1)).toThrow('nested deeper than the shape');
    expect(() => elementCount('t', [2, 1.5], 100)).toThrow('tensor "t": shape [2, 1.5]');
    expect(() => elementCount('t', [1000, 1000], 100)).toThrow('1000000 elements, over the limit of 100');
  });

  it('round-trips binary data, BYTES length-prefixed, and checks sizes against the shape', () => {
    const bytes = binaryDataOf('string', ['a', 'bcd']);
    expect([...bytes]).toEqual([1, 0, 0, 0, 97, 3, 0, 0, 0, 98, 99, 100]);
    expect(decodeBinaryData('s', 'BYTES', 2, bytes)).toEqual(['a', 'bcd']);
    expect(() => decodeBinaryData('s', 'BYTES', 3, bytes)).toThrow('holds 2 BYTES elements; its shape holds 3');
    expect(() => decodeBinaryData('s', 'BYTES', 1, bytes.subarray(0, 4))).toThrow('runs past');
    expect(() => decodeBinaryData('s', 'BYTES', 2, bytes.subarray(0, 6))).toThrow('truncated length');
    const values = new Float32Array([1.5, -2]);
    const unaligned = new Uint8Array(9);
    unaligned.set(binaryDataOf('float32', values), 1);
    expect([...(decodeBinaryData('f', 'FP32', 2, unaligned.subarray(1)) as Float32Array)]).toEqual([1.5, -2]);
    expect(() => decodeBinaryData('f', 'FP32', 3, unaligned.subarray(1))).toThrow('binary data is 8 bytes; 3 FP32 elements are 12');
  });

  it('writes int64 exactly in JSON, and non-finite floats as null', () => {
    expect(jsonDataOf('int64', new BigInt64Array([9_007_199_254_740_993n]))).toBe('[9007199254740993]');
    expect(jsonDataOf('float32', new Float32Array([NaN, 1]))).toBe('[null,1]');
    expect(jsonDataOf('bool', new Uint8Array([1, 0]))).toBe('[true,false]');
  });
});

describe('answer compression', () => {
  it('gives back the same bytes through gzip and deflate, small answers and large ones (the thread pool) alike', async () => {
    for (const size of [2000, 300_000]) {
      const body = Buffer.from(Float32Array.from({ length: size / 4 }, (_, i) => Math.sin(i)).buffer);
      expect(gunzipSync(await compress(body, 'gzip')).equals(body)).toBe(true);
      expect(inflateSync(await compress(body, 'deflate')).equals(body)).toBe(true);
    }
  });
});

describe('routes', () => {
  it('takes /v2/models/stats for statistics, not for a model named "stats", and parses versions', () => {
    expect(matchRoute('GET', '/v2/models/stats').name).toBe('all-stats');
    expect(matchRoute('GET', '/v2/models/a%20b/versions/3/stats')).toMatchObject({ name: 'model-stats', model: 'a b', version: 3 });
    expect(matchRoute('POST', '/v2/models/m/infer')).toMatchObject({ name: 'infer', model: 'm', version: undefined });
    expect(() => matchRoute('GET', '/v2/models/m/infer')).toThrow('takes POST');
    expect(() => matchRoute('GET', '/v2/models/m/versions/0')).toThrow('must be a positive integer');
    expect(() => matchRoute('GET', '/v2/nothing')).toThrow('no such endpoint');
    expect(matchRoute('GET', '/v2/health/live').open).toBe(true);
  });

  it("reports package.json's version", () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(SWITCHBOARD_VERSION).toBe(pkg.version);
  });
});
