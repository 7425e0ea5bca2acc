import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ExperienceBuffer, type FieldSpec } from '../../src-main/experience/buffer.js';
import { CHECKPOINT_FILE, CorruptCheckpointError, restoreCheckpoint, writeCheckpoint } from '../../src-main/experience/checkpoint.js';
import { ExperienceTable } from '../../src-main/experience/table.js';

const FIELDS: FieldSpec[] = [
  { name: 'id', dtype: 'int32', shape: [] },
  { name: 'obs', dtype: 'float32', shape: [3] },
];
const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'switchboard-ckpt-'));
  dirs.push(d);
  return d;
}

function filledBuffer(capacity: number, items: number): ExperienceBuffer {
  const buffer = ExperienceBuffer.create(capacity, FIELDS);
  for (let i = 0; i < items; i++) buffer.insert({ id: i, obs: [i, i + 0.5, -i] });
  return buffer;
}

describe('experience checkpoints', () => {
  it('round-trips the buffer, and a table over the restored buffer sees the same items', async () => {
    const dir = tempDir();
    const buffer = filledBuffer(8, 11); // wrapped: ids 3..10 remain
    const info = await writeCheckpoint(dir, buffer);
    expect(info.bytes).toBeGreaterThan(buffer.byteLength);
    expect(readFileSync(info.path).length).toBe(info.bytes);
    const restored = (await restoreCheckpoint(dir))!;
    expect(
      Buffer.from(new Uint8Array(restored.descriptor.sab))
        .subarray(16)
        .equals(Buffer.from(new Uint8Array(buffer.descriptor.sab)).subarray(16)),
    ).toBe(true);
    const table = new ExperienceTable(restored, { sampler: 'fifo' });
    table.pull();
    const all = await table.sample(8);
    expect(Array.from(all.data.get('id')!)).toEqual([3, 4, 5, 6, 7, 8, 9, 10]);
    // New inserts continue after the restored items.
    restored.insert({ id: 11, obs: [0, 0, 0] });
    table.pull();
    expect(Array.from((await table.sample(1)).data.get('id')!)).toEqual([11]);
  });

  it('refuses a corrupt or truncated checkpoint, loading nothing', async () => {
    const dir = tempDir();
    const { path } = await writeCheckpoint(dir, filledBuffer(4, 4));
    const good = readFileSync(path);
    // One flipped bit in the body (a stored value) and one in the stored digest: both are refused by the checksum.
    for (const at of [good.length - 32 - 5, good.length - 1]) {
      const flipped = Buffer.from(good);
      flipped[at] = flipped[at]! ^ 0x01;
      writeFileSync(path, flipped);
      const refused = restoreCheckpoint(dir);
      await expect(refused).rejects.toBeInstanceOf(CorruptCheckpointError);
      await expect(refused).rejects.toThrow('checksum mismatch: the checkpoint is corrupt or incomplete');
    }
    writeFileSync(path, good.subarray(0, good.length - 10));
    await expect(restoreCheckpoint(dir)).rejects.toThrow(/checksum mismatch/);
    writeFileSync(path, 'hello');
    await expect(restoreCheckpoint(dir)).rejects.toThrow(/not a Switchboard experience checkpoint/);
    expect(await restoreCheckpoint(tempDir())).toBeUndefined();
  });

  it('a process killed while writing a checkpoint leaves the previous one usable', async () => {
    const dir = tempDir();
    await writeCheckpoint(dir, filledBuffer(4, 2));
    // A child writes a large checkpoint to the same directory; it is SIGKILLed as soon as its temporary file exists.
    const script = `
      import { ExperienceBuffer } from ${JSON.stringify(new URL('../../src-main/experience/buffer.ts', import.meta.url).href)};
      import { writeCheckpoint } from ${JSON.stringify(new URL('../../src-main/experience/checkpoint.ts', import.meta.url).href)};
      const big = ExperienceBuffer.create(8_000_000, [{ name: 'x', dtype: 'float64', shape: [4] }]);
      await writeCheckpoint(${JSON.stringify(dir)}, big);
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    const deadline = Date.now() + 60_000;
    while (!readdirSync(dir).some((n) => n.startsWith('.ckpt-'))) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error('the child never started writing');
      await new Promise((resolve) => setImmediate(resolve));
    }
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect(readdirSync(dir).some((n) => n.startsWith('.ckpt-'))).toBe(true); // the half-written file is there
    const restored = (await restoreCheckpoint(dir))!;
    const table = new ExperienceTable(restored, { sampler: 'fifo' });
    table.pull();
    expect(Array.from((await table.sample(2)).data.get('id')!)).toEqual([0, 1]);
    // The interrupted temporary file is cleaned up on restore.
    expect(readdirSync(dir)).toEqual([CHECKPOINT_FILE]);
    expect(existsSync(join(dir, CHECKPOINT_FILE))).toBe(true);
  });
});
