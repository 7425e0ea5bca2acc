/**
 * Export to NumPy's formats, which a Python learner reads in one line
 * (`np.load("sample.npz")`): .npy (format 1.0) for one array, .npz (an uncompressed zip
 * of .npy files) for several. Written to the specs, little-endian, C order.
 */
import { crc32 } from 'node:zlib';
import type { Column, ExperienceBuffer, FieldDType } from './buffer.js';

const DESCR: Record<FieldDType, string> = { float32: '<f4', float64: '<f8', int32: '<i4', uint8: '|u1' };

export interface NamedArray {
  readonly data: Column;
  readonly shape: readonly number[];
  readonly dtype: FieldDType;
}

/** One array as a .npy file (format version 1.0; header padded so data starts on a 64-byte boundary). */
export function npyBytes(array: NamedArray): Uint8Array {
  const shape = array.shape.length === 1 ? `(${array.shape[0]},)` : `(${array.shape.join(', ')})`;
  let header = `{'descr': '${DESCR[array.dtype]}', 'fortran_order': False, 'shape': ${shape}, }`;
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const prefix = Buffer.alloc(10);
  prefix.write('\x93NUMPY', 0, 'latin1');
  prefix[6] = 1;
  prefix[7] = 0;
  prefix.writeUInt16LE(header.length, 8);
  // Typed arrays are in the platform's byte order; every platform Electron and Node run on is little-endian.
  const data = Buffer.from(array.data.buffer, array.data.byteOffset, array.data.byteLength);
  return Buffer.concat([prefix, Buffer.from(header, 'latin1'), data]);
}

/** Several arrays as an .npz file: a zip archive, entries stored uncompressed, named `<name>.npy`. */
export function npzBytes(arrays: Readonly<Record<string, NamedArray>>): Uint8Array {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, array] of Object.entries(arrays)) {
    const body = Buffer.from(npyBytes(array));
    const fileName = Buffer.from(`${name}.npy`, 'utf8');
    const crc = crc32(body);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(0, 6); // flags
    local.writeUInt16LE(0, 8); // stored
    local.writeUInt16LE(0, 10); // time 00:00
    local.writeUInt16LE(0x21, 12); // date 1980-01-01
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(body.length, 22);
    local.writeUInt16LE(fileName.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4); // made by
    central.writeUInt16LE(20, 6); // needed
    central.writeUInt16LE(0, 8);
    central.writeUInt16LE(0, 10);
    central.writeUInt16LE(0, 12);
    central.writeUInt16LE(0x21, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(body.length, 24);
    central.writeUInt16LE(fileName.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, fileName, body);
    centrals.push(central, fileName);
    offset += local.length + fileName.length + body.length;
  }
  const centralBytes = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  const entries = Object.keys(arrays).length;
  end.writeUInt16LE(entries, 8);
  end.writeUInt16LE(entries, 10);
  end.writeUInt32LE(centralBytes.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, centralBytes, end]);
}

/** What an export holds: every item, the newest N, or a uniform random sample of N. */
export type ExportSelection = { kind: 'all' } | { kind: 'newest'; items: number } | { kind: 'sample'; items: number };

/**
 * The items held, as .npz (every field, plus index and generation): all of them, the
 * newest `newest`, or a uniform random `sample` of them. Read straight from the buffer,
 * so no table's counts, limiter or removal rules are touched; items overwritten
 * while being read are left out.
 */
export function bufferToNpz(buffer: ExperienceBuffer, which: ExportSelection = { kind: 'all' }): { bytes: Uint8Array; items: number } {
  const { committed } = buffer.counts();
  const first = buffer.firstLiveIndex();
  const live = Math.max(0, committed - first);
  let indexes: number[];
  if (which.kind === 'sample') {
    const n = Math.min(which.items, live);
    indexes = Array.from({ length: n }, () => first + Math.floor(Math.random() * live));
  } else {
    const n = which.kind === 'newest' ? Math.min(which.items, live) : live;
    indexes = Array.from({ length: n }, (_, i) => committed - n + i);
  }
  const columns = buffer.newColumns(indexes.length);
  const slots = new Int32Array(indexes.length);
  const generations = new Int32Array(indexes.length);
  let rows = 0;
  for (const index of indexes) {
    const slot = index % buffer.capacity;
    const generation = Math.floor(index / buffer.capacity) + 1;
    if (!buffer.readInto(slot, generation, columns, rows)) continue;
    slots[rows] = slot;
    generations[rows] = generation;
    rows++;
  }
  const arrays: Record<string, NamedArray> = {};
  buffer.fields.forEach((f, i) => {
    const per = buffer.elements.get(f.name)!;
    arrays[f.name] = { data: columns[i]!.subarray(0, rows * per), shape: [rows, ...f.shape], dtype: f.dtype };
  });
  arrays.index = { data: slots.subarray(0, rows), shape: [rows], dtype: 'int32' };
  arrays.generation = { data: generations.subarray(0, rows), shape: [rows], dtype: 'int32' };
  return { bytes: npzBytes(arrays), items: rows };
}
