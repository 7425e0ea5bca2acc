import { mkdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RepositoryPathError, modelFilePath, scanRepository } from '../../src-main/repository/layout.js';
import { parseModelConfig } from '../../src-main/repository/model-config.js';
import { UpdaterSettingsSchema } from '../../src-main/updater/protocol.js';
import { RepositoryTracker } from '../../src-main/updater/repository-tracker.js';
import { TestRepository } from '../fixtures/repository.js';

const repos: TestRepository[] = [];
afterEach(() => repos.splice(0).forEach((r) => r.cleanup()));
function repository(): TestRepository {
  const r = new TestRepository();
  repos.push(r);
  return r;
}

describe('repository layout', () => {
  it('lists models and integer versions that hold model.onnx, ignoring everything else', async () => {
    const repo = repository();
    await repo.publish('policy', 2, new Uint8Array([1, 2, 3]));
    await repo.publish('policy', 10, new Uint8Array([4]));
    mkdirSync(join(repo.root, 'policy', '3')); // no model.onnx yet
    mkdirSync(join(repo.root, 'policy', 'latest'), { recursive: true });
    writeFileSync(join(repo.root, 'policy', 'latest', 'model.onnx'), 'x');
    mkdirSync(join(repo.root, 'policy', '.staging-4'));
    writeFileSync(join(repo.root, 'policy', '.staging-4', 'model.onnx'), 'x');
    mkdirSync(join(repo.root, '.hidden', '1'), { recursive: true });
    symlinkSync('/etc', join(repo.root, 'policy', '11'));
    const models = await scanRepository(repo.root);
    expect(models.map((m) => m.name)).toEqual(['policy']);
    expect(models[0]!.versions.map((v) => [v.version, v.sizeBytes, v.ready])).toEqual([
      [2, 3, true],
      [10, 1, true],
    ]);
  });

  it('builds paths only from valid names and versions, inside the root', () => {
    expect(modelFilePath('/repo', 'policy', 3)).toBe('/repo/policy/3/model.onnx');
    expect(() => modelFilePath('/repo', '../etc', 1)).toThrow(RepositoryPathError);
    expect(() => modelFilePath('/repo', 'policy/..', 1)).toThrow(RepositoryPathError);
    expect(() => modelFilePath('/repo', 'policy', 0)).toThrow(RepositoryPathError);
    expect(() => modelFilePath('/repo', 'policy', 1.5)).toThrow(RepositoryPathError);
  });
});

describe('config.json', () => {
  it('accepts serving settings and a version policy, with defaults', () => {
    const parsed = parseModelConfig({ batching: { maxBatchSize: 32 }, versionPolicy: { kind: 'pinned', version: 3 } });
    expect(parsed.error).toBeNull();
    expect(parsed.config!.batching.maxBatchSize).toBe(32);
    expect(parsed.config!.versionPolicy).toEqual({ kind: 'pinned', version: 3, keepWarm: 1 });
    expect(parseModelConfig(null).config!.versionPolicy).toEqual({ kind: 'latest', keepWarm: 1 });
  });

  it('rejects unknown keys and bad values, naming them', () => {
    expect(parseModelConfig({ batchin: {} }).error).toMatch(/batchin/);
    expect(parseModelConfig({ queue: { capacity: 0 } }).error).toMatch(/capacity/);
    expect(parseModelConfig({ versionPolicy: { kind: 'newest' } }).error).toMatch(/kind/);
    expect(parseModelConfig({ versionPolicy: { kind: 'latest', keepWarm: 2, extra: 1 } }).error).toMatch(/extra/);
  });
});

describe('RepositoryTracker', () => {
  it('validates a version only once its file has settled, and again only if it changes', async () => {
    const repo = repository();
    let now = 1_000_000;
    const tracker = new RepositoryTracker(UpdaterSettingsSchema.parse({ repository: repo.root, settleMs: 500 }), () => now);
    const path = join(repo.versionDir('m', 1), 'model.onnx');
    writeFileSync(path, 'half');
    expect(await tracker.scan()).toBe(true);
    expect(tracker.view()[0]!.versions[0]!.state).toBe('pending');
    expect(tracker.next()).toBeUndefined();
    now += 400;
    writeFileSync(path, 'half written'); // still growing: the clock restarts
    utimesSync(path, new Date(), new Date(Date.now() + 5000));
    await tracker.scan();
    now += 400;
    expect(tracker.next()).toBeUndefined();
    now += 200;
    const next = tracker.next()!;
    expect(next).toMatchObject({ model: 'm', version: 1 });
    expect(next.request.path).toBe(path);
    tracker.markValidating('m', 1);
    tracker.setVerdict('m', 1, { ok: false, reason: 'bad', sha256: null, sizeBytes: 12 }, tracker.fileStamp('m', 1)!);
    expect(tracker.view()[0]!.versions[0]).toMatchObject({ state: 'invalid', reason: 'bad' });
    expect(await tracker.scan()).toBe(false);
    expect(tracker.next()).toBeUndefined();
  });

  it('discards a verdict for a file that changed while it was validated', async () => {
    const repo = repository();
    let now = 0;
    const tracker = new RepositoryTracker(UpdaterSettingsSchema.parse({ repository: repo.root, settleMs: 0 }), () => now);
    await repo.publish('m', 1, new Uint8Array([1]));
    await tracker.scan();
    const stamp = tracker.fileStamp('m', 1)!;
    tracker.markValidating('m', 1);
    await repo.publish('m', 2, new Uint8Array([2]));
    tracker.setVerdict('m', 1, { ok: false, reason: 'x', sha256: null, sizeBytes: 1 }, { ...stamp, sizeBytes: stamp.sizeBytes + 1 });
    expect(tracker.view()[0]!.versions[0]!.state).toBe('validating');
    await tracker.scan();
    now += 1;
    expect(tracker.next()).toMatchObject({ version: 2 });
  });
});
