import { mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, symlinkSync, truncateSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProtocolError } from '../../src-main/inference/protocol-error.js';
import { SharedMemoryRegions, type ShmReference } from '../../src-main/inference/shm/shared-memory-regions.js';
import { shmReferenceOf } from '../../src-main/inference/shm/shm-parameters.js';
import { checkRegionName, KEY_RULE, REGION_NAME_RULE, shmFileOf } from '../../src-main/inference/shm/shm-key.js';
import { ShmTensors } from '../../src-main/inference/shm/shm-tensors.js';
import type { TensorSource } from '../../src-main/engine/index.js';

let folder: string;

beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), 'sb-shm-'));
});
afterEach(() => rmSync(folder, { recursive: true, force: true }));

function object(name: string, bytes: number | Buffer): string {
  writeFileSync(join(folder, name), typeof bytes === 'number' ? Buffer.alloc(bytes) : bytes);
  return `/${name}`;
}

/** This process's descriptors open on files in the test's folder, from /proc/self/fd. */
function descriptorsInFolder(): number {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`).startsWith(folder);
    } catch {
      return false; // the listing's own descriptor, closed by the time it is read
    }
  }).length;
}

function refusal(call: () => unknown): ProtocolError {
  try {
    call();
  } catch (error) {
    if (error instanceof ProtocolError) return error;
    throw error;
  }
  throw new Error('expected a ProtocolError');
}

describe('SharedMemoryRegions', () => {
  it('reads and writes a tensor at the registered offset plus the reference offset', () => {
    const key = object('tensors', Buffer.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
    const regions = new SharedMemoryRegions({ folder });
    regions.register('r', key, 2, 8, 'peer:a');
    const input: ShmReference = { region: 'r', offset: 1, byteSize: 3 };
    const output: ShmReference = { region: 'r', offset: 5, byteSize: 3 };
    const lease = regions.lease([
      { ref: input, where: 'tensor "x"' },
      { ref: output, where: 'output "y"' },
    ]);
    expect(regions.status('r')[0]).toMatchObject({ inUseBytes: 6, requestsInFlight: 1, owner: 'peer:a' });
    const bytes = new Uint8Array(3);
    lease.readInto(input, bytes, 'tensor "x"');
    expect([...bytes]).toEqual([3, 4, 5]);
    lease.write(output, new Uint8Array([70, 80]), 'output "y"');
    lease.release();
    expect([...readFileSync(join(folder, 'tensors'))]).toEqual([0, 1, 2, 3, 4, 5, 6, 70, 80, 9]);
    expect(regions.status('r')[0]).toMatchObject({ inUseBytes: 0, requestsInFlight: 0 });
    regions.close();
  });

  it.each([
    ['/../etc/passwd', 'is not'],
    ['/..hidden', 'may not hold ".."'],
    ['a..b', 'may not hold ".."'],
    ['/.', 'may not hold ".." or be "."'],
    ['/inner/name', 'is not'],
    ['//double', 'is not'],
    ['has space', 'is not'],
    ['', 'is not'],
    [`/${'x'.repeat(201)}`, 'is not'],
  ])('refuses the key %j before opening anything', (key, message) => {
    const regions = new SharedMemoryRegions({ folder });
    const error = refusal(() => regions.register('r', key, 0, 1, 'peer:a'));
    expect(error.kind).toBe('invalid');
    expect(error.message).toContain(message);
    expect(regions.status()).toEqual([]);
    expect(regions.descriptorsOpen).toBe(0);
  });

  it('refuses a symlink, a folder, a missing object and a region past the end, and keeps no descriptor', () => {
    const target = object('real', 64);
    symlinkSync(join(folder, 'real'), join(folder, 'link'));
    mkdirSync(join(folder, 'dir'));
    const regions = new SharedMemoryRegions({ folder });
    expect(refusal(() => regions.register('r', '/link', 0, 8, 'peer:a')).message).toContain('symlink');
    expect(refusal(() => regions.register('r', '/dir', 0, 8, 'peer:a')).message).toContain('not a regular file');
    expect(refusal(() => regions.register('r', '/absent', 0, 8, 'peer:a')).kind).toBe('not_found');
    expect(refusal(() => regions.register('r', target, 60, 8, 'peer:a')).message).toContain('runs past the end');
    expect(refusal(() => regions.register('r', target, 0, 0, 'peer:a')).message).toContain('positive');
    expect(refusal(() => regions.register('bad name', target, 0, 8, 'peer:a')).message).toContain('region name');
    expect(regions.descriptorsOpen).toBe(0);
    expect(descriptorsInFolder()).toBe(0);
  });

  it('refuses a second region under one name and a reference past its region, changing nothing', () => {
    const key = object('obj', 64);
    const regions = new SharedMemoryRegions({ folder });
    regions.register('r', key, 0, 32, 'peer:a');
    expect(refusal(() => regions.register('r', key, 0, 8, 'peer:b')).kind).toBe('already_exists');
    const past = refusal(() => regions.lease([{ ref: { region: 'r', offset: 30, byteSize: 4 }, where: 'tensor "x"' }]));
    expect(past.message).toBe('tensor "x": offset 30 + byte_size 4 runs past the end of region "r" (32 bytes)');
    const unknown = refusal(() => regions.lease([{ ref: { region: 'nope', offset: 0, byteSize: 4 }, where: 'tensor "x"' }]));
    expect(unknown.message).toContain('"nope" is not registered');
    expect(regions.status()).toEqual([{ name: 'r', key, offset: 0, byteSize: 32, owner: 'peer:a', inUseBytes: 0, requestsInFlight: 0 }]);
    regions.close();
  });

  it('holds each client to its own limits, and everyone to the pool’s', () => {
    const key = object('obj', 1024);
    const regions = new SharedMemoryRegions({
      folder,
      limits: { maxRegions: 4, maxBytes: 1000, maxRegionsPerClient: 2, maxBytesPerClient: 600 },
    });
    regions.register('a1', key, 0, 100, 'peer:a');
    regions.register('a2', key, 0, 100, 'peer:a');
    expect(refusal(() => regions.register('a3', key, 0, 1, 'peer:a')).kind).toBe('exhausted');
    expect(refusal(() => regions.register('b1', key, 0, 601, 'peer:b')).message).toContain("this client's regions");
    regions.register('b1', key, 0, 600, 'peer:b');
    expect(refusal(() => regions.register('c1', key, 0, 201, 'peer:c')).message).toContain('past their limit of 1000');
    regions.register('c1', key, 0, 200, 'peer:c');
    expect(refusal(() => regions.register('d1', key, 0, 1, 'peer:d')).message).toContain('4 regions are registered');
    regions.unregister('a1');
    regions.register('a3', key, 0, 1, 'peer:a');
    expect(regions.status().map((r) => r.name)).toEqual(['a2', 'b1', 'c1', 'a3']);
    regions.close();
  });

  it('keeps a region’s descriptor while a request holds it, and closes it when the request is done', () => {
    const key = object('obj', 64);
    const regions = new SharedMemoryRegions({ folder });
    regions.register('r', key, 0, 64, 'peer:a');
    expect(descriptorsInFolder()).toBe(1);
    const ref = { region: 'r', offset: 0, byteSize: 8 };
    const lease = regions.lease([{ ref, where: 'output "y"' }]);
    regions.unregister('r');
    expect(regions.status()).toEqual([]);
    lease.write(ref, new Uint8Array([1, 2]), 'output "y"'); // the request in flight finishes with it
    expect(descriptorsInFolder()).toBe(1);
    regions.register('r', key, 0, 64, 'peer:a'); // the name is free again at once
    lease.release();
    lease.release(); // twice is once
    expect(regions.descriptorsOpen).toBe(1);
    regions.close();
    expect(regions.descriptorsOpen).toBe(0);
    expect(descriptorsInFolder()).toBe(0);
  });

  it('says so when the object was truncated after registering, and when an output does not fit', () => {
    const key = object('obj', 64);
    const regions = new SharedMemoryRegions({ folder });
    regions.register('r', key, 0, 64, 'peer:a');
    truncateSync(join(folder, 'obj'), 10);
    const ref = { region: 'r', offset: 8, byteSize: 8 };
    const lease = regions.lease([{ ref, where: 'tensor "x"' }]);
    expect(refusal(() => lease.readInto(ref, new Uint8Array(8), 'tensor "x"')).message).toContain('holds 2 of its 8 bytes');
    expect(refusal(() => lease.write(ref, new Uint8Array(9), 'output "y"')).message).toContain('is 9 bytes');
    lease.release();
    regions.close();
  });
});

describe('shm-key', () => {
  it('says which rule a name or key breaks, quoting a long one cut at 80 characters', () => {
    const long = `/${'k'.repeat(300)}`;
    expect(() => shmFileOf(long)).toThrow(`shared-memory key "${long.slice(0, 80)}…" is not ${KEY_RULE}`);
    const at80 = `/${'k'.repeat(78)}/`; // 80 characters, quoted whole
    expect(() => shmFileOf(at80)).toThrow(`shared-memory key "${at80}" is not`);
    const at81 = `/${'k'.repeat(79)}/`;
    expect(() => shmFileOf(at81)).toThrow(`shared-memory key "${at81.slice(0, 80)}…" is not`);
    expect(() => checkRegionName('a b')).toThrow(`region name "a b" is not ${REGION_NAME_RULE}`);
    // The rules as a client reads them in the error (the same text for both protocols).
    expect(REGION_NAME_RULE).toBe('1 to 128 of A-Z a-z 0-9 . _ : -');
    expect(KEY_RULE).toBe('an optional leading "/", then 1 to 200 of A-Z a-z 0-9 . _ - (no other "/", and no "..")');
    expect(shmFileOf('/ok.key')).toBe('/dev/shm/ok.key'); // where glibc's shm_open looks
    expect(shmFileOf('ok.key', '/tmp/elsewhere')).toBe('/tmp/elsewhere/ok.key');
  });
});

describe('shmReferenceOf', () => {
  it('takes the three parameters together, the offset defaulting to 0', () => {
    expect(shmReferenceOf({ region: undefined, offset: undefined, byteSize: undefined }, 'x')).toBeUndefined();
    expect(shmReferenceOf({ region: 'r', offset: undefined, byteSize: 16 }, 'x')).toEqual({ region: 'r', offset: 0, byteSize: 16 });
    expect(shmReferenceOf({ region: 'r', offset: '8', byteSize: '16' }, 'x')).toEqual({ region: 'r', offset: 8, byteSize: 16 });
    expect(() => shmReferenceOf({ region: 'r', offset: 0, byteSize: undefined }, 'tensor "x"')).toThrow(
      'tensor "x": shared_memory_byte_size must be given',
    );
    expect(() => shmReferenceOf({ region: undefined, offset: undefined, byteSize: 4 }, 'x')).toThrow('shared_memory_region');
    expect(() => shmReferenceOf({ region: 'r', offset: -1, byteSize: 4 }, 'x')).toThrow('shared_memory_offset');
    expect(() => shmReferenceOf({ region: 'r', offset: 0, byteSize: 1.5 }, 'x')).toThrow('shared_memory_byte_size');
  });
});

describe('ShmTensors', () => {
  function setup(bytes: Buffer) {
    const key = object('tensors', bytes);
    const regions = new SharedMemoryRegions({ folder });
    regions.register('r', key, 0, bytes.byteLength, 'peer:a');
    const input: ShmReference = { region: 'r', offset: 0, byteSize: 8 };
    const output: ShmReference = { region: 'r', offset: 8, byteSize: 4 };
    const lease = regions.lease([
      { ref: input, where: 'tensor "x"' },
      { ref: output, where: 'output "y"' },
    ]);
    return { regions, lease, input, output, tensors: new ShmTensors(lease) };
  }

  it('gives the engine a source it copies from once, and a sink that writes the rows it is handed', () => {
    const { regions, lease, input, output, tensors } = setup(Buffer.from(new Float32Array([1.5, -2, 0, 0]).buffer));
    const source = tensors.input(input, 'x', 'FP32', [2]) as TensorSource;
    expect(source.materialize()).toEqual(new Float32Array([1.5, -2]));
    tensors.output(output, 'y');
    tensors.sinks.y!(new Float32Array([7]));
    tensors.check();
    lease.release();
    expect(readFileSync(join(folder, 'tensors')).readFloatLE(8)).toBe(7);
    regions.close();
  });

  it('refuses a byte size that does not match the shape, before the engine sees the request', () => {
    const { regions, lease, input, tensors } = setup(Buffer.alloc(16));
    expect(() => tensors.input(input, 'x', 'FP32', [3])).toThrow('shared_memory_byte_size is 8; 3 FP32 elements are 12 bytes');
    lease.release();
    regions.close();
  });

  it('keeps what goes wrong while the engine copies as the request’s error, and never throws into the batch', () => {
    const { regions, lease, input, output, tensors } = setup(Buffer.alloc(16));
    const source = tensors.input(input, 'x', 'FP32', [2]) as TensorSource;
    tensors.output(output, 'y');
    truncateSync(join(folder, 'tensors'), 4);
    const target = new Float32Array([9, 9]);
    expect(() => source.copyTo(target)).not.toThrow();
    expect([...target]).toEqual([0, 0]);
    expect(() => tensors.sinks.y!(new Float32Array([1, 2]))).not.toThrow(); // 8 bytes for a place of 4
    expect(() => tensors.check()).toThrow('tensor "x": region "r" holds 4 of its 8 bytes');
    lease.release();
    regions.close();
  });

  it('fills zeros for a request answered before its batch was assembled: the descriptor may be closed by then', () => {
    const { regions, lease, input, tensors } = setup(Buffer.from(new Float32Array([3, 4, 0, 0]).buffer));
    const source = tensors.input(input, 'x', 'FP32', [2]) as TensorSource;
    lease.release();
    regions.close();
    expect(regions.descriptorsOpen).toBe(0);
    const target = new Float32Array([9, 9]);
    source.copyTo(target);
    expect([...target]).toEqual([0, 0]);
  });
});
