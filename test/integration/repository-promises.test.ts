/**
 * Repository promises the README makes, each served end to end through a real updater
 * process: the pinned version policy, the READY marker, the size limit's verdict, and
 * reload validating again. Waits are hang limits; every assertion is on a verdict or on
 * which version answered.
 */
import { createHash } from 'node:crypto';
import { statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SMALL_LAYERS } from '../fixtures/models.js';
import { policyModel } from '../fixtures/repository.js';
import { randomRows, until } from './helpers.js';
import { system } from './repository-system.js';

const WIDTH = SMALL_LAYERS[0]!;
const request = () => ({ obs: { data: randomRows(1, WIDTH, 1), dims: [1, WIDTH] } });
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

describe('repository promises, end to end', () => {
  it('serves the pinned version, not the newest, and follows the pin when config.json moves it', async () => {
    const { repo, engine, coordinator, version, active } = system();
    repo.writeConfig('policy', { versionPolicy: { kind: 'pinned', version: 2 } });
    for (const v of [1, 2, 3]) await repo.publish('policy', v, policyModel(v));
    coordinator.start();
    await until(() => version('policy', 3)?.validation === 'valid' && active('policy') === 2, 30_000, 'v3 valid, v2 pinned');
    await coordinator.settled();
    expect(active('policy')).toBe(2);
    expect((await engine.infer('policy', request())).modelVersion).toBe(2);
    expect(coordinator.snapshot().models[0]!.policy).toMatchObject({ kind: 'pinned', version: 2 });

    repo.writeConfig('policy', { versionPolicy: { kind: 'pinned', version: 1 } });
    await until(() => active('policy') === 1, 30_000, 'the pin moved to v1');
    expect((await engine.infer('policy', request())).modelVersion).toBe(1);
  }, 90_000);

  it('validates a version with READY at once, while one without it waits for its file to settle', async () => {
    // A settle time far longer than the test: only READY can let a version through.
    const { repo, coordinator, version, active } = system({ settleMs: 600_000 });
    await repo.publish('policy', 1, policyModel(1)); // publish() writes READY
    const unmarked = repo.versionDir('policy', 2);
    writeFileSync(join(unmarked, 'model.onnx'), policyModel(2));
    coordinator.start();
    await until(() => active('policy') === 1, 30_000, 'v1 active');
    await repo.publish('policy', 3, policyModel(3));
    await until(() => active('policy') === 3, 30_000, 'v3 active');
    // v3 came after v2 and is served: the updater has looked at v2 since, and still waits for it.
    expect(version('policy', 2)!.validation).toBe('pending');
    writeFileSync(join(unmarked, 'READY'), '');
    await until(() => version('policy', 2)?.validation === 'valid', 30_000, 'v2 valid once READY is there');
    expect(active('policy')).toBe(3); // an older version that became valid does not displace the newer one
  }, 90_000);

  it('refuses a version over the size limit with the sizes in the reason, and keeps serving the one before', async () => {
    const small = policyModel(1);
    const { repo, engine, coordinator, version, active } = system({ maxModelBytes: small.length + 16 });
    await repo.publish('policy', 1, small);
    coordinator.start();
    await until(() => active('policy') === 1, 30_000, 'v1 active');
    const big = new Uint8Array(small.length + 17);
    big.set(small);
    await repo.publish('policy', 2, big);
    await until(() => version('policy', 2)?.validation === 'invalid', 30_000, 'v2 refused');
    expect(version('policy', 2)!.reason).toBe(`file is ${big.length} bytes, over the limit of ${small.length + 16}`);
    expect(version('policy', 2)!.sha256).toBeNull(); // refused before it was read
    expect((await engine.infer('policy', request())).modelVersion).toBe(1);
  }, 60_000);

  it('validates again on reload: a file changed behind the updater’s back (same size and time) is read anew', async () => {
    const { repo, coordinator, version, active } = system();
    const first = policyModel(1);
    await repo.publish('policy', 1, first);
    coordinator.start();
    await until(() => active('policy') === 1, 30_000, 'v1 active');
    expect(version('policy', 1)!.sha256).toBe(sha256(first));
    const file = join(repo.versionDir('policy', 1), 'model.onnx');
    const { atime, mtime } = statSync(file);
    const other = policyModel(2);
    expect(other.length).toBe(first.length); // same size: nothing a look at size and time can tell
    writeFileSync(file, other);
    utimesSync(file, atime, mtime);
    coordinator.reload('policy');
    await until(() => version('policy', 1)?.sha256 === sha256(other), 30_000, 'v1 validated again');
    expect(version('policy', 1)!.validation).toBe('valid');
  }, 60_000);
});
