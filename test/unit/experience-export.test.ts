import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { npyBytes, npzBytes } from '../../src-main/experience/export.js';

describe('NumPy export', () => {
  it('writes .npy format 1.0 byte for byte', () => {
    const bytes = Buffer.from(npyBytes({ data: new Float32Array([1, 2, 3, 4]), shape: [2, 2], dtype: 'float32' }));
    // Spec: magic \x93NUMPY, version 1.0, little-endian u16 header length, a Python dict literal
    // padded with spaces and ended by \n so that the data starts at a multiple of 64.
    const dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }";
    const header = dict + ' '.repeat(128 - 10 - dict.length - 1) + '\n';
    const expected = Buffer.concat([
      Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 0x01, 0x00, 118, 0]),
      Buffer.from(header, 'latin1'),
      Buffer.from([0, 0, 0x80, 0x3f, 0, 0, 0, 0x40, 0, 0, 0x40, 0x40, 0, 0, 0x80, 0x40]),
    ]);
    expect(header.length).toBe(118);
    expect(bytes.equals(expected)).toBe(true);
  });

  it('writes one-dimensional shapes as a one-element tuple, and each dtype descriptor', () => {
    const text = (dtype: 'float64' | 'int32' | 'uint8', data: Float64Array | Int32Array | Uint8Array) =>
      Buffer.from(npyBytes({ data, shape: [data.length], dtype }))
        .subarray(10, 80)
        .toString('latin1');
    expect(text('float64', new Float64Array(3))).toContain("'descr': '<f8', 'fortran_order': False, 'shape': (3,), }");
    expect(text('int32', new Int32Array(1))).toContain("'descr': '<i4'");
    expect(text('uint8', new Uint8Array(5))).toContain("'descr': '|u1'");
  });

  it('writes .npz as a stored zip whose entries are .npy files', () => {
    const a = { data: new Int32Array([7, 8, 9]), shape: [3], dtype: 'int32' as const };
    const zip = Buffer.from(npzBytes({ ids: a }));
    expect(zip.readUInt32LE(0)).toBe(0x04034b50);
    const nameLength = zip.readUInt16LE(26);
    expect(zip.subarray(30, 30 + nameLength).toString()).toBe('ids.npy');
    const size = zip.readUInt32LE(18);
    expect(zip.subarray(30 + nameLength, 30 + nameLength + size).equals(Buffer.from(npyBytes(a)))).toBe(true);
    expect(zip.readUInt32LE(zip.length - 22)).toBe(0x06054b50);
    expect(zip.readUInt16LE(zip.length - 22 + 10)).toBe(1);
  });

  // The first Python that has NumPy: the project's venv, the one on PATH, or the system's (a pyenv
  // shim on PATH may hide Debian's python3-numpy, which CI installs).
  const python = ['.venv/bin/python', 'python3', '/usr/bin/python3'].find(
    (exe) => spawnSync(exe, ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0,
  );
  it.skipIf(python === undefined)('is read by NumPy itself (skipped where no python3 has numpy: reason stated here)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-npz-'));
    try {
      const path = join(dir, 'batch.npz');
      writeFileSync(
        path,
        npzBytes({
          obs: { data: new Float32Array([0.5, -1, 2, 3.25, 4, 5]), shape: [2, 3], dtype: 'float32' },
          done: { data: new Uint8Array([1, 0]), shape: [2], dtype: 'uint8' },
        }),
      );
      const out = execFileSync(python!, [
        '-c',
        `import numpy as np; d = np.load(${JSON.stringify(path)}); print(d["obs"].tolist(), d["obs"].dtype, d["done"].tolist())`,
      ])
        .toString()
        .trim();
      expect(out).toBe('[[0.5, -1.0, 2.0], [3.25, 4.0, 5.0]] float32 [1, 0]');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
