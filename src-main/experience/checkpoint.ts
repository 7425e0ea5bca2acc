/**
 * Checkpoints of an experience buffer: one file, written to a temporary name (created
 * exclusively, owner-only), fsynced, then renamed over `latest.ckpt`, so a crash at any
 * point leaves the previous checkpoint whole. The file ends with the sha256 of all that
 * precedes it; a corrupt or partial file is refused with CorruptCheckpointError and
 * nothing of it is loaded.
 *
 *   "SBXP" | u32 format | u32 header bytes | header JSON | buffer bytes | sha256 (32 bytes)
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readFile, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { EngineError } from '../engine/errors.js';
import { ExperienceBuffer } from './buffer.js';

const MAGIC = Buffer.from('SBXP');
const FORMAT = 2; // 2: eight header words (clear marker, insert gate)
export const CHECKPOINT_FILE = 'latest.ckpt';
const TEMP_PREFIX = '.ckpt-';

export class CorruptCheckpointError extends EngineError {
  readonly code = 'CORRUPT_CHECKPOINT';
}

const HeaderSchema = z.strictObject({
  capacity: z.number().int().min(1),
  fields: z.array(
    z.strictObject({
      name: z.string().min(1).max(128),
      dtype: z.enum(['float32', 'float64', 'int32', 'uint8']),
      shape: z.array(z.number().int().min(1)).max(8),
    }),
  ),
  writtenAtMs: z.number(),
});

export interface CheckpointInfo {
  path: string;
  bytes: number;
  /** How long writers could have been held up: the time to copy the memory (they never are blocked). */
  copyMs: number;
  writeMs: number;
}

export async function writeCheckpoint(dir: string, buffer: ExperienceBuffer): Promise<CheckpointInfo> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const started = performance.now();
  const body = buffer.snapshotBytes();
  const copyMs = performance.now() - started;
  const header = Buffer.from(JSON.stringify({ capacity: buffer.capacity, fields: buffer.fields, writtenAtMs: Date.now() }));
  const prefix = Buffer.alloc(12);
  MAGIC.copy(prefix, 0);
  prefix.writeUInt32LE(FORMAT, 4);
  prefix.writeUInt32LE(header.length, 8);
  const digest = createHash('sha256').update(prefix).update(header).update(body).digest();
  const temp = join(dir, `${TEMP_PREFIX}${randomBytes(8).toString('hex')}`);
  const file = await open(temp, 'wx', 0o600);
  try {
    await file.writev([prefix, header, body, digest]);
    await file.sync();
  } finally {
    await file.close();
  }
  const target = join(dir, CHECKPOINT_FILE);
  await rename(temp, target);
  return { path: target, bytes: prefix.length + header.length + body.length + digest.length, copyMs, writeMs: performance.now() - started };
}

/** The buffer in `dir`'s last complete checkpoint, or undefined when there is none. Removes stale temporary files. */
export async function restoreCheckpoint(dir: string): Promise<ExperienceBuffer | undefined> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  for (const name of names) if (name.startsWith(TEMP_PREFIX)) await rm(join(dir, name), { force: true });
  if (!names.includes(CHECKPOINT_FILE)) return undefined;
  return parseCheckpoint(new Uint8Array(await readFile(join(dir, CHECKPOINT_FILE))));
}

export function parseCheckpoint(bytes: Uint8Array): ExperienceBuffer {
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (data.length < 12 + 32 || !data.subarray(0, 4).equals(MAGIC))
    throw new CorruptCheckpointError('not a Switchboard experience checkpoint');
  if (data.readUInt32LE(4) !== FORMAT) throw new CorruptCheckpointError(`unknown checkpoint format ${data.readUInt32LE(4)}`);
  const digest = createHash('sha256')
    .update(data.subarray(0, data.length - 32))
    .digest();
  if (!digest.equals(data.subarray(data.length - 32)))
    throw new CorruptCheckpointError('checksum mismatch: the checkpoint is corrupt or incomplete');
  const headerLength = data.readUInt32LE(8);
  let header: z.infer<typeof HeaderSchema>;
  try {
    header = HeaderSchema.parse(JSON.parse(data.subarray(12, 12 + headerLength).toString('utf8')));
  } catch (error) {
    throw new CorruptCheckpointError(`bad checkpoint header: ${(error as Error).message}`, { cause: error });
  }
  const body = data.subarray(12 + headerLength, data.length - 32);
  try {
    return ExperienceBuffer.fromSnapshot(header.capacity, header.fields, body);
  } catch (error) {
    throw new CorruptCheckpointError(`checkpoint body does not match its header: ${(error as Error).message}`, { cause: error });
  }
}
