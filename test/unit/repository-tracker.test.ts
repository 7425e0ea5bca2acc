import { mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UpdaterSettingsSchema } from '../../src-main/updater/protocol.js';
import { RepositoryTracker } from '../../src-main/updater/repository-tracker.js';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'sb-tracker-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function version(model: string, v: number, bytes = 'model'): string {
  mkdirSync(join(root, model, String(v)), { recursive: true });
  writeFileSync(join(root, model, String(v), 'model.onnx'), bytes);
  writeFileSync(join(root, model, String(v), 'READY'), '');
  return join(root, model, String(v));
}

const tracker = () => new RepositoryTracker(UpdaterSettingsSchema.parse({ repository: root }));
const listed = (t: RepositoryTracker) =>
  t
    .view()
    .map((m) => [m.name, m.versions.map((v) => v.version)])
    .sort((a, b) => String(a[0]).localeCompare(String(b[0])));
const changedVersions = (t: RepositoryTracker) =>
  t.changes().flatMap((m) => (m.type === 'version' ? [m.version.version] : m.type === 'version-removed' ? [-m.version] : []));

describe('RepositoryTracker', () => {
  it('reads again only what an event names', async () => {
    for (const v of [1, 2, 3]) version('m', v);
    const t = tracker();
    await t.scan();
    t.changes();
    const four = version('m', 4);
    writeFileSync(join(root, 'm', '1', 'model.onnx'), 'rewritten, but no event names it');
    expect(await t.refresh([four, join(four, 'model.onnx')])).toBe(true);
    expect(changedVersions(t)).toEqual([4]); // version 1's rewrite waits for a look that names it
    expect(await t.refresh([join(root, 'm', '1', 'model.onnx')])).toBe(true);
    expect(changedVersions(t)).toEqual([1]);
    rmSync(join(root, 'm', '2'), { recursive: true });
    expect(await t.refresh([join(root, 'm', '2')])).toBe(true);
    expect(changedVersions(t)).toEqual([-2]);
    expect(await t.refresh([join(root, '.trash', 'm', '3-1'), join(root, 'm', '.staging-5-1')])).toBe(false); // not ours to read
    expect(listed(t)).toEqual([['m', [1, 3, 4]]]);
  });

  it('finds on the poll what no event told: new and removed versions and models, and a changed config.json', async () => {
    version('m', 1);
    const t = tracker();
    await t.scan();
    t.changes();
    version('m', 2);
    version('other', 1);
    writeFileSync(join(root, 'm', 'config.json'), '{"versionPolicy": {"kind": "pinned", "version": 1}}');
    expect(await t.settle()).toBe(true);
    expect(listed(t)).toEqual([
      ['m', [1, 2]],
      ['other', [1]],
    ]);
    expect(t.view()[0]!.config).toEqual({ versionPolicy: { kind: 'pinned', version: 1 } });
    expect(await t.settle()).toBe(false); // nothing changed: nothing reported
    rmSync(join(root, 'other'), { recursive: true });
    writeFileSync(join(root, 'm', 'config.json'), '{"versionPolicy": {"kind": "latest"}}');
    utimesSync(join(root, 'm', 'config.json'), new Date(), new Date(Date.now() + 5000)); // a distinct time, however fast the write
    expect(await t.settle()).toBe(true);
    expect(listed(t)).toEqual([['m', [1, 2]]]);
    expect(t.view()[0]!.config).toEqual({ versionPolicy: { kind: 'latest' } });
  });

  it('reads a model’s config.json with any event of the model, before its new version is looked at', async () => {
    version('m', 1);
    const t = tracker();
    await t.scan();
    writeFileSync(join(root, 'm', 'config.json'), '{"workers": {"count": 0}}');
    const two = version('m', 2);
    await t.refresh([two]); // the watcher told of the version only
    expect(t.view()[0]!.configError).toContain('workers.count');
  });

  it('offers a version for validation only once its file has kept its size and time for settleMs, by its clock; READY skips the wait', async () => {
    let now = 1_000_000;
    const t = new RepositoryTracker(UpdaterSettingsSchema.parse({ repository: root, settleMs: 2000 }), () => now);
    const dir = join(root, 'm', '1');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'model.onnx');
    writeFileSync(file, 'part');
    await t.scan();
    expect(t.view()[0]!.versions[0]!.state).toBe('pending');
    now += 1999;
    expect(t.next()).toBeUndefined();
    // A slow writer appends: the settle clock starts again from this look.
    writeFileSync(file, 'part, and more');
    utimesSync(file, new Date(now), new Date(now + 5));
    await t.refresh([file]);
    now += 1999;
    expect(t.next()).toBeUndefined();
    now += 1;
    expect(t.next()).toMatchObject({ model: 'm', version: 1 });

    version('m', 2); // with READY: offered at once, and before the older one (the newest goes first)
    await t.refresh([join(root, 'm', '2'), join(root, 'm', '2', 'model.onnx'), join(root, 'm', '2', 'READY')]);
    expect(t.next()).toMatchObject({ model: 'm', version: 2 });
  });

  it('never follows a symlinked version or model folder', async () => {
    const real = version('real', 1);
    const t = tracker();
    await t.scan();
    mkdirSync(join(root, 'm'));
    symlinkSync(real, join(root, 'm', '7'));
    symlinkSync(join(root, 'real'), join(root, 'linked'));
    await t.refresh([join(root, 'm', '7'), join(root, 'linked'), join(root, 'linked', '1')]);
    await t.settle();
    expect(listed(t)).toEqual([
      ['m', []],
      ['real', [1]],
    ]);
  });
});
