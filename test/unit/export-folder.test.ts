import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ExportFolder } from '../../src-main/experience/export-folder.js';

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('export folder', () => {
  it('without a chosen folder, writes into a fresh folder only this user can enter, a new one per service', async () => {
    const a = new ExportFolder(undefined);
    const b = new ExportFolder(undefined);
    const pathA = await a.write('experience-a.npz', new Uint8Array([1]));
    const pathB = await b.write('experience-b.npz', new Uint8Array([2]));
    made.push(dirname(pathA), dirname(pathB));
    expect(dirname(pathA)).not.toBe(dirname(pathB));
    expect(dirname(pathA).startsWith(join(tmpdir(), 'switchboard-exports-'))).toBe(true);
    expect(statSync(dirname(pathA)).mode & 0o777).toBe(0o700);
    expect(statSync(pathA).mode & 0o777).toBe(0o600);
  });

  it('keeps the newest exports only, and never removes a file that is not an export', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-export-test-'));
    made.push(dir);
    writeFileSync(join(dir, 'notes.txt'), 'mine');
    const folder = new ExportFolder(dir, 3);
    for (let i = 0; i < 6; i++) await folder.write(`experience-${i}.npz`, new Uint8Array([i]));
    expect(readdirSync(dir).sort()).toEqual(['experience-3.npz', 'experience-4.npz', 'experience-5.npz', 'notes.txt']);
  });

  it('refuses to overwrite an export of the same name', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-export-test-'));
    made.push(dir);
    const folder = new ExportFolder(dir);
    await folder.write('experience-x.npz', new Uint8Array([1]));
    await expect(folder.write('experience-x.npz', new Uint8Array([2]))).rejects.toMatchObject({ code: 'EEXIST' });
  });
});
