import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { VersionState } from '../../src-main/updater/protocol.js';
import { EngineHoldings, emptyTrash, moveToTrash, TRASH_FOLDER, versionsToRetire } from '../../src-main/updater/retention.js';

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

  it('keeps an older invalid version while the valid ones are no more than it keeps', () => {
    expect(versionsToRetire([v(1, 'invalid'), v(2, 'valid'), v(3, 'valid')], 2, new Set())).toEqual([]);
    expect(versionsToRetire([v(1, 'invalid'), v(2, 'valid'), v(3, 'valid'), v(4, 'valid')], 2, new Set())).toEqual([1, 2]);
  });

  it('does not depend on the order versions are listed in', () => {
    expect(versionsToRetire([...history].reverse(), 2, new Set())).toEqual([1, 2, 3]);
  });
});

describe('EngineHoldings', () => {
  it('knows nothing until the host reports, then keeps what the engine holds and the keepWarm latest activations', () => {
    const holdings = new EngineHoldings();
    expect(holdings.kept('m', 2)).toBeUndefined();
    holdings.activated('m', 3, [3]);
    holdings.activated('m', 5, [5, 3]);
    holdings.activated('m', 3, [3]); // a rollback: 5 was made active before it
    holdings.activated('m', 7, []); // the host's list may be short: the active one is held anyway
    expect([...holdings.kept('m', 1)!].sort()).toEqual([7]);
    expect([...holdings.kept('m', 2)!].sort()).toEqual([3, 7]);
    expect([...holdings.kept('m', 3)!].sort()).toEqual([3, 5, 7]); // 3 counted once though activated twice
    holdings.activated('m', 8, [8, 2]);
    expect([...holdings.kept('m', 1)!].sort()).toEqual([2, 8]); // what the engine says it holds is always kept
    expect(holdings.kept('other', 1)).toBeUndefined();
  });

  it('counts a version re-activated several times once among the latest activations', () => {
    const holdings = new EngineHoldings();
    for (const v of [1, 2, 1, 1]) holdings.activated('m', v, []);
    expect([...holdings.kept('m', 2)!].sort()).toEqual([1, 2]);
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
    version('policy', 12);
    const first = await moveToTrash(root, 'policy', 1, 1_000);
    expect(TRASH_FOLDER).toBe('.trash'); // a dot folder: the scanner never takes it for a model (model names have no leading dot)
    expect(first).toBe(join(root, '.trash', 'policy', '1-1000'));
    expect(existsSync(join(first, 'model.onnx'))).toBe(true);
    expect(existsSync(join(root, 'policy', '1'))).toBe(false);
    await moveToTrash(root, 'policy', 2, 5_000);
    await moveToTrash(root, 'policy', 12, 1_500); // a version of two digits, its folder holding its model
    mkdirSync(join(root, TRASH_FOLDER, 'policy', 'an-operator-folder')); // not ours: never deleted
    for (const name of ['x1-1000', '1-1000-copy', '1-1000x']) mkdirSync(join(root, TRASH_FOLDER, 'policy', name)); // nor these
    expect(await emptyTrash(root, 3_000, 5_999)).toBe(2); // 1-1000 and 12-1500 are old enough; 2-5000 is only 999 ms old
    expect(readdirSync(join(root, TRASH_FOLDER, 'policy')).sort()).toEqual([
      '1-1000-copy',
      '1-1000x',
      '2-5000',
      'an-operator-folder',
      'x1-1000',
    ]);
    expect(await emptyTrash(root, 3_000, 8_000)).toBe(1);
    expect(readdirSync(join(root, TRASH_FOLDER, 'policy')).sort()).toEqual(['1-1000-copy', '1-1000x', 'an-operator-folder', 'x1-1000']);
  });

  it('fails loudly when the trash is not a folder, rather than calling it empty', async () => {
    writeFileSync(join(root, '.trash'), 'not a folder');
    await expect(emptyTrash(root, 0, Date.now())).rejects.toMatchObject({ code: 'ENOTDIR' });
  });

  it('has nothing to empty before anything was retired, and refuses a name that is not a model', async () => {
    expect(await emptyTrash(root, 0, Date.now())).toBe(0);
    await expect(moveToTrash(root, '../outside', 1, 0)).rejects.toThrow('invalid model name');
  });
});
