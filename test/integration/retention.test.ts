/**
 * Retention applied by the real updater process: a model's `versionPolicy.retain` keeps the
 * newest N valid versions and every version the engine holds (active, warm), moves the rest
 * into the repository's trash, and follows what the engine holds as it changes.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { TRASH_FOLDER } from '../../src-main/updater/retention.js';
import { nanModel, policyModel } from '../fixtures/repository.js';
import { until } from './helpers.js';
import { system } from './repository-system.js';

describe('retention', () => {
  it('keeps exactly the newest valid versions and those the engine holds, and retires the rest into the trash', async () => {
    const { repo, engine, coordinator, active, version } = system();
    repo.writeConfig('policy', { versionPolicy: { kind: 'latest', keepWarm: 2, retain: 2 } });
    const inRepository = () =>
      readdirSync(join(repo.root, 'policy'))
        .filter((name) => /^\d+$/.test(name))
        .map(Number)
        .sort((a, b) => a - b);
    const inTrash = () =>
      existsSync(join(repo.root, TRASH_FOLDER, 'policy'))
        ? readdirSync(join(repo.root, TRASH_FOLDER, 'policy'))
            .map((name) => Number(name.split('-')[0]))
            .sort((a, b) => a - b)
        : [];
    for (const v of [1, 2]) await repo.publish('policy', v, policyModel(v));
    coordinator.start();
    await until(() => active('policy') === 2 && version('policy', 1)?.validation === 'valid', 20_000, 'versions 1 and 2 valid');
    await coordinator.activate('policy', 1); // a rollback: 1 active, 2 kept warm (keepWarm 2)
    for (const v of [3, 4, 5]) await repo.publish('policy', v, policyModel(v));
    await repo.publish('policy', 6, nanModel()); // invalid, and newer than the valid ones kept: it stays
    await until(() => version('policy', 6)?.validation === 'invalid' && inTrash().length === 1, 20_000, 'version 3 retired');
    // Newest two valid: 5 and 4. Held by the engine: 1 (active) and 2 (warm). Version 3 is neither.
    expect(inRepository()).toEqual([1, 2, 4, 5, 6]);
    expect(inTrash()).toEqual([3]);
    const listed = () =>
      coordinator
        .snapshot()
        .models[0]!.versions.map((v) => v.version)
        .join(',');
    await until(() => listed() === '1,2,4,5,6', 10_000, 'the host told that version 3 is gone');
    expect(
      engine
        .modelVersions('policy')
        .map((v) => v.version)
        .sort(),
    ).toEqual([1, 2]);

    await coordinator.followLatest('policy'); // 5 active, 1 warm: 2 is no longer held
    await until(() => inTrash().length === 2, 20_000, 'version 2 retired');
    expect(inRepository()).toEqual([1, 4, 5, 6]);
    expect(inTrash()).toEqual([2, 3]);
    await until(() => listed() === '1,4,5,6', 10_000, 'the host told that version 2 is gone');
    expect(active('policy')).toBe(5);
    expect((await engine.infer('policy', { obs: { data: new Float32Array(16), dims: [1, 16] } })).modelVersion).toBe(5);
  }, 60_000);

  it('moves nothing without a retain setting', async () => {
    const { repo, coordinator, active } = system();
    for (const v of [1, 2, 3]) await repo.publish('policy', v, policyModel(v));
    coordinator.start();
    await until(() => active('policy') === 3, 20_000, 'version 3 active');
    await until(() => coordinator.snapshot().models[0]!.versions.every((v) => v.validation === 'valid'), 20_000, 'every verdict');
    expect(existsSync(join(repo.root, TRASH_FOLDER))).toBe(false);
    expect(readdirSync(join(repo.root, 'policy')).sort()).toEqual(['1', '2', '3']);
  }, 60_000);
});
