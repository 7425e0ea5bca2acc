import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { VersionState } from '../../src-main/updater/protocol.js';
import { emptyTrash, moveToTrash, TRASH_FOLDER, versionsToRetire } from '../../src-main/updater/retention.js';

const v = (version: number, state: VersionState) => ({ version, state });

describe('versionsToRetire', () => {
  const history = [
    v(1, 'valid'),
    v(2, 'invalid'),
    v(3, 'valid'),
    v(4, 'pending'),
    v(5, 'valid'),
    v(6, 'invalid'),
    v(7, 'valid'),
    v(8, 'invalid'),
  ];

  it('keeps the newest N valid versions and everything newer, and retires settled versions older than them', () => {
    expect(versionsToRetire(history, 2, new Set())).toEqual([1, 2, 3]); // 4 is pending: never moved
    expect(versionsToRetire(history, 3, new Set())).toEqual([1, 2]);
    expect(versionsToRetire(history, 1, new Set())).toEqual([1, 2, 3, 5, 6]);
  });

  it('never retires a version the engine holds or the policy pins', () => {
    expect(versionsToRetire(history, 1, new Set([3, 1]))).toEqual([2, 5, 6]);
  });

  it('retires nothing while there are no more valid versions than it keeps', () => {
    expect(versionsToRetire(history, 4, new Set())).toEqual([]);
    expect(versionsToRetire(history, 9, new Set())).toEqual([]);
    expect(versionsToRetire([v(1, 'invalid'), v(2, 'validating'), v(3, 'invalid')], 1, new Set())).toEqual([]);
  });

  it('does not depend on the order versions are listed in', () => {
    expect(versionsToRetire([...history].reverse(), 2, new Set())).toEqual([1, 2, 3]);
  });
});

describe('the trash', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'sb-retention-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  function version(model: string, n: number): void {
    mkdirSync(join(root, model, String(n)), { recursive: true });
    writeFileSync(join(root, model, String(n), 'model.onnx'), 'bytes');
  }

  it('takes a version folder whole, by name and time, and empties only what is older than its age', async () => {
    version('policy', 1);
    version('policy', 2);
    const first = await moveToTrash(root, 'policy', 1, 1_000);
    expect(first).toBe(join(root, TRASH_FOLDER, 'policy', '1-1000'));
    expect(existsSync(join(first, 'model.onnx'))).toBe(true);
    expect(existsSync(join(root, 'policy', '1'))).toBe(false);
    await moveToTrash(root, 'policy', 2, 5_000);
    mkdirSync(join(root, TRASH_FOLDER, 'policy', 'an-operator-folder')); // not ours: never deleted
    expect(await emptyTrash(root, 3_000, 5_999)).toBe(1); // 1-1000 is 4,999 ms old; 2-5000 only 999 ms
    expect(readdirSync(join(root, TRASH_FOLDER, 'policy')).sort()).toEqual(['2-5000', 'an-operator-folder']);
    expect(await emptyTrash(root, 3_000, 8_000)).toBe(1);
    expect(readdirSync(join(root, TRASH_FOLDER, 'policy'))).toEqual(['an-operator-folder']);
  });

  it('has nothing to empty before anything was retired, and refuses a name that is not a model', async () => {
    expect(await emptyTrash(root, 0, Date.now())).toBe(0);
    await expect(moveToTrash(root, '../outside', 1, 0)).rejects.toThrow('invalid model name');
  });
});
