/**
 * The checkpoint file's format, checked on crafted bytes: each way a file can be wrong gets
 * its own CorruptCheckpointError message (what an operator reads when a restore is refused),
 * and writing one leaves no descriptor open and reports its timings consistently.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ExperienceBuffer, type FieldSpec } from '../../src-main/experience/buffer.js';
import { CorruptCheckpointError, parseCheckpoint, restoreCheckpoint, writeCheckpoint } from '../../src-main/experience/checkpoint.js';

const FIELDS: FieldSpec[] = [{ name: 'id', dtype: 'int32', shape: [] }];

/** SBXP | format | header length | header | body, then the sha256 of all of it (a well-formed file unless told otherwise). */
function craft(options: { magic?: string; format?: number; header?: string; body?: Uint8Array; length?: number } = {}): Uint8Array {
  const header = Buffer.from(options.header ?? JSON.stringify({ capacity: 2, fields: FIELDS, writtenAtMs: 1 }));
  const prefix = Buffer.alloc(12);
  Buffer.from(options.magic ?? 'SBXP').copy(prefix, 0);
  prefix.writeUInt32LE(options.format ?? 2, 4);
  prefix.writeUInt32LE(header.length, 8);
  const body = Buffer.from(options.body ?? ExperienceBuffer.create(2, FIELDS).snapshotBytes());
  const content = Buffer.concat([prefix, header, body]);
  const whole = Buffer.concat([content, createHash('sha256').update(content).digest()]);
  return options.length === undefined ? whole : whole.subarray(0, options.length);
}

const refusal = (bytes: Uint8Array): CorruptCheckpointError => {
  try {
    parseCheckpoint(bytes);
  } catch (error) {
    if (error instanceof CorruptCheckpointError) return error;
    throw error;
  }
  throw new Error('parsed');
};

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'sb-ckpt-format-'));
  dirs.push(dir);
  return dir;
};

describe('checkpoint format', () => {
  it('reads a well-formed file back into a buffer of its capacity and fields', () => {
    const buffer = parseCheckpoint(craft());
    expect(buffer.capacity).toBe(2);
    expect(buffer.fields).toEqual(FIELDS);
  });

  it('says what is wrong with a file, each with its own message and the CORRUPT_CHECKPOINT code', () => {
    const short = new Uint8Array(40);
    Buffer.from('SBXP').copy(short);
    short[4] = 2; // format 2: only its length gives it away
    expect(refusal(Buffer.from('hello')).message).toBe('not a Switchboard experience checkpoint');
    expect(refusal(short).message).toBe('not a Switchboard experience checkpoint');
    expect(refusal(craft({ magic: 'XXXX' })).message).toBe('not a Switchboard experience checkpoint');
    const formatOnly = craft({ format: 3, header: '', body: new Uint8Array(0) }); // 44 bytes: the least a file can be
    expect(formatOnly.length).toBe(44);
    expect(refusal(formatOnly).message).toBe('unknown checkpoint format 3');
    expect(refusal(craft({ length: craft().length - 1 })).message).toBe('checksum mismatch: the checkpoint is corrupt or incomplete');
    const badHeader = refusal(craft({ header: '{"capacity": 0}' }));
    expect(badHeader.message).toMatch(/^bad checkpoint header: .*capacity/s); // the schema's own words, naming the field
    expect((badHeader.cause as Error).name).toBe('ZodError');
    const badBody = refusal(craft({ body: new Uint8Array(3) }));
    expect(badBody.message).toBe(
      'checkpoint body does not match its header: snapshot has 3 bytes, the layout needs ' + String(ExperienceBuffer.bytesFor(2, FIELDS)),
    );
    expect(badBody.cause).toBeInstanceOf(RangeError);
    expect(badBody.code).toBe('CORRUPT_CHECKPOINT');
  });

  it('writes without leaving a descriptor open, its copy time part of its write time', async () => {
    const dir = tempDir();
    const buffer = ExperienceBuffer.create(64, FIELDS);
    for (let i = 0; i < 64; i++) buffer.insert({ id: i });
    const descriptors = () => readdirSync('/proc/self/fd').length;
    const before = descriptors();
    const started = performance.now();
    const info = await writeCheckpoint(dir, buffer);
    const took = performance.now() - started;
    expect(descriptors()).toBe(before);
    expect(info.copyMs).toBeLessThanOrEqual(info.writeMs);
    expect(info.writeMs).toBeLessThanOrEqual(took); // both measured inside the call
    expect(readFileSync(info.path).length).toBe(info.bytes);
  });

  it('refuses a checkpoint folder that is not a folder, rather than calling it empty', async () => {
    const file = join(tempDir(), 'not-a-folder');
    writeFileSync(file, '');
    await expect(restoreCheckpoint(file)).rejects.toMatchObject({ code: 'ENOTDIR' });
    expect(await restoreCheckpoint(join(tempDir(), 'missing'))).toBeUndefined();
  });
});
