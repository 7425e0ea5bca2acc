import { createHash } from 'node:crypto';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Engine, UnknownModelError, VersionUnavailableError } from '../../src-main/engine/index.js';
import { ModelCoordinator, type UpdaterLink } from '../../src-main/repository/coordinator.js';
import type { VersionView } from '../../src-main/updater/protocol.js';
import type { UpdaterStats } from '../../src-main/updater/supervisor.js';
import { SMALL_LAYERS } from '../fixtures/models.js';
import { nanModel, policyModel, TestRepository, widerModel } from '../fixtures/repository.js';
import { outcomes, randomRows, until } from './helpers.js';
import { cleanups, system } from './repository-system.js';

const WIDTH = SMALL_LAYERS[0]!;
const request = (seed = 1) => ({ obs: { data: randomRows(1, WIDTH, seed), dims: [1, WIDTH] } });
/** A message the supervisor hands on to the coordinator (not its handshake or heartbeats). */
type Delivered = Parameters<Parameters<UpdaterLink['onMessage']>[0]>[0];

/**
 * Stands in for the updater process where a test needs a verdict no real updater gives:
 * it delivers the messages the test scripts, and nothing else.
 */
class ScriptedUpdater implements UpdaterLink {
  private readonly listeners = new Set<(message: Delivered) => void>();
  onMessage(listener: (message: Delivered) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  onReady(): () => void {
    return () => undefined;
  }
  start(): void {}
  send(): boolean {
    return true;
  }
  async stop(): Promise<void> {}
  stats(): UpdaterStats {
    return {
      state: 'ready',
      pid: null,
      restarts: 0,
      readyTimeouts: 0,
      missedHeartbeatKills: 0,
      invalidMessages: 0,
      lastHeartbeatAgeMs: null,
      uptimeMs: 0,
      validating: false,
      lastError: null,
      cpuPercent: null,
      rssBytes: null,
    };
  }
  deliver(message: Delivered): void {
    for (const listener of this.listeners) listener(message);
  }
}

describe('model repository, updater and hot swap', () => {
  it('loads the newest valid version, follows new ones, and rejects each kind of bad version with its reason', async () => {
    const { repo, engine, coordinator, version, active } = system();
    await repo.publish('policy', 1, policyModel(1));
    coordinator.start();
    await until(() => active('policy') === 1, 15_000, 'version 1 active');
    await repo.publish('policy', 2, policyModel(2));
    await until(() => active('policy') === 2, 15_000, 'version 2 active');
    expect((await engine.infer('policy', request())).modelVersion).toBe(2);

    const good = policyModel(9);
    await repo.publish(
      'policy',
      3,
      new Uint8Array(4096).map((_, i) => (i * 131) & 255),
    ); // corrupt
    await repo.publish('policy', 4, good.slice(0, Math.floor(good.length / 2))); // truncated
    await repo.publish('policy', 5, new TextEncoder().encode('this is not an ONNX model\n')); // not ONNX
    await repo.publish('policy', 6, widerModel()); // incompatible signature
    await repo.publish('policy', 7, nanModel()); // produces NaN
    await until(() => [3, 4, 5, 6, 7].every((v) => version('policy', v)?.validation === 'invalid'), 20_000, 'five verdicts');
    expect(version('policy', 3)!.reason).toMatch(/onnxruntime cannot load it/);
    expect(version('policy', 4)!.reason).toMatch(/onnxruntime cannot load it/);
    expect(version('policy', 5)!.reason).toMatch(/onnxruntime cannot load it/);
    expect(version('policy', 6)!.reason).toMatch(/incompatible with active version 2: input "obs" dim 1 changed from 16 to 17/);
    expect(version('policy', 7)!.reason).toMatch(/warm-up output "logits" holds NaN/);
    expect(active('policy')).toBe(2);
    await expect(coordinator.activate('policy', 7)).rejects.toThrow(/version 7 is invalid: .*holds NaN/);
    expect(engine.modelVersions('policy').map((v) => v.version)).toEqual([2]);
    expect((await engine.infer('policy', request())).modelVersion).toBe(2);
    expect(version('policy', 2)).toMatchObject({ validation: 'valid', serving: 'active' });
    expect(version('policy', 2)!.timings!.loadMs).toBeGreaterThan(0);
    // Each verdict is an event once, with its reason: an operator watching the event log
    // sees a bad version without opening the Models page.
    const verdicts = engine.events.since().filter((e) => e.kind === 'version-validated' || e.kind === 'version-invalid');
    const verdictOf = (e: (typeof verdicts)[number]) => [e.kind, e.model, Number(/version (\d+)/.exec(e.message)![1])] as const;
    // The updater validates a batch of new versions newest first; the order among them is its own.
    expect(verdicts.map(verdictOf).sort((a, b) => a[2] - b[2])).toEqual([
      ['version-validated', 'policy', 1],
      ['version-validated', 'policy', 2],
      ...[3, 4, 5, 6, 7].map((v) => ['version-invalid', 'policy', v]),
    ]);
    expect(verdicts.find((e) => e.message.includes('version 7'))).toMatchObject({ level: 'warn' });
    expect(verdicts.find((e) => e.message.includes('version 7'))!.message).toMatch(/is invalid: .*warm-up output "logits" holds NaN/);
  });

  it('rolls back to an older version on request and follows the latest again', async () => {
    const { repo, engine, coordinator, active } = system();
    repo.writeConfig('policy', { versionPolicy: { kind: 'latest', keepWarm: 2 } });
    await repo.publish('policy', 1, policyModel(1));
    await repo.publish('policy', 2, policyModel(2));
    coordinator.start();
    await until(() => active('policy') === 2, 15_000, 'version 2 active');
    // What cannot be served is an error that changes nothing: the model keeps following the latest.
    await expect(coordinator.activate('policy', 9)).rejects.toThrow(VersionUnavailableError);
    await expect(coordinator.activate('policy', 9)).rejects.toThrow('model "policy" version 9 is not in the repository');
    await expect(coordinator.activate('nope', 1)).rejects.toThrow(UnknownModelError);
    expect(() => coordinator.reload('nope')).toThrow(UnknownModelError);
    expect(coordinator.snapshot().models[0]!.operatorPin).toBeNull();
    await coordinator.activate('policy', 1);
    expect(active('policy')).toBe(1);
    expect((await engine.infer('policy', request())).modelVersion).toBe(1);
    const snap = coordinator.snapshot().models[0]!;
    expect(snap.operatorPin).toBe(1);
    expect(snap.swaps.at(-1)).toMatchObject({ from: 2, to: 1, kind: 'rollback', ok: true });
    // Version 2 stayed warm (keepWarm 2): the way back needs no session creation.
    await coordinator.followLatest('policy');
    expect(active('policy')).toBe(2);
    expect(coordinator.snapshot().models[0]!.swaps.at(-1)).toMatchObject({ to: 2, kind: 'follow-latest', loadMs: 0 });
  });

  it('serves no new version while config.json is invalid or unreadable, says so in an event, and resumes once it is fixed', async () => {
    const { repo, engine, coordinator, version, active } = system();
    await repo.publish('policy', 1, policyModel(1));
    coordinator.start();
    await until(() => active('policy') === 1, 30_000, 'version 1 active');
    const configError = () => coordinator.snapshot().models[0]!.configError;
    const configEvents = () => engine.events.since().filter((e) => e.kind === 'config-invalid');

    repo.writeConfig('policy', { workers: { count: 0 } }); // a setting out of range
    await repo.publish('policy', 2, policyModel(2));
    await until(() => version('policy', 2)?.validation === 'valid' && configError() !== null, 30_000, 'v2 valid, config refused');
    await coordinator.settled();
    expect(active('policy')).toBe(1);
    await expect(coordinator.activate('policy', 2)).rejects.toThrow(/version 2 is not served while config\.json is invalid/);
    expect(coordinator.snapshot().models[0]!.operatorPin).toBeNull();
    expect(configEvents()).toHaveLength(1);
    expect(configEvents()[0]).toMatchObject({ level: 'error', model: 'policy' });
    expect(configEvents()[0]!.message).toMatch(/config\.json is invalid.*workers\.count/s);

    repo.writeConfig('policy', {});
    await until(() => active('policy') === 2, 30_000, 'version 2 active once the config is fixed');

    // Unreadable JSON could have been meant to pin a version: nothing is swapped on a guess.
    repo.writeConfigText('policy', '{"versionPolicy": {"kind": "pinned", "version": 2}');
    await repo.publish('policy', 3, policyModel(3));
    await until(() => version('policy', 3)?.validation === 'valid' && configError() !== null, 30_000, 'v3 valid, config unreadable');
    await coordinator.settled();
    expect(active('policy')).toBe(2);
    expect(configEvents()).toHaveLength(2);
    expect(configEvents()[1]!.message).toMatch(/config\.json: .*JSON/);
    // Four rounds of validation and loading: the waits above are hang limits for a loaded machine.
  }, 150_000);

  it('an activation the engine refuses is an error, and the pin that was there before stays', async () => {
    const repo = new TestRepository();
    const engine = new Engine();
    const updater = new ScriptedUpdater();
    const coordinator = new ModelCoordinator(engine, updater, repo.root, engine.events);
    cleanups.push(() => repo.cleanup());
    cleanups.push(() => engine.stop(1000));
    const [v1, v2] = [policyModel(1), policyModel(2)];
    await repo.publish('policy', 1, v1);
    await repo.publish('policy', 2, v2);
    const valid = (version: number, validatedBytes: Uint8Array): VersionView => ({
      version,
      state: 'valid',
      reason: null,
      sha256: createHash('sha256').update(validatedBytes).digest('hex'),
      sizeBytes: validatedBytes.length,
      mtimeMs: 0,
      signature: null,
      timings: null,
      batching: null,
    });
    coordinator.start();
    // Version 2's verdict names other bytes than its file holds, as if the file changed after
    // validation: the engine, which hashes what it loads, refuses it and serves version 1.
    updater.deliver({
      type: 'repository',
      models: [{ name: 'policy', config: null, configError: null, versions: [valid(1, v1), valid(2, v1)] }],
    });
    const model = () => coordinator.snapshot().models[0]!;
    await until(() => model().activeVersion === 1, 30_000, 'version 1 served');
    await coordinator.settled();
    expect(model().versions.find((v) => v.version === 2)!.validation).toBe('refused');

    await coordinator.activate('policy', 1);
    expect(model().operatorPin).toBe(1);
    await expect(coordinator.activate('policy', 2)).rejects.toThrow(/model "policy" version 2 was refused: .*sha256/);
    expect(model().operatorPin).toBe(1);
    expect(model().activeVersion).toBe(1);
  });

  it('never loads a half-written file: it stays pending while a slow writer appends, then the whole file is validated and served', async () => {
    // The settle rule's timing is held in test/unit/repository-tracker.test.ts by an injected clock; here the
    // real updater sees every append (each one restarts its settle clock) and must validate only the whole file.
    const { repo, engine, coordinator, version, active } = system({ settleMs: 2000 });
    await repo.publish('policy', 1, policyModel(1));
    coordinator.start();
    await until(() => active('policy') === 1, 15_000, 'version 1 active');
    const bytes = policyModel(2);
    const path = join(repo.versionDir('policy', 2), 'model.onnx');
    const chunk = Math.ceil(bytes.length / 8);
    writeFileSync(path, bytes.subarray(0, chunk));
    for (let offset = chunk; offset < bytes.length; offset += chunk) {
      await until(() => version('policy', 2)?.sizeBytes === offset, 5000, `the updater sees ${offset} bytes`);
      expect(version('policy', 2)!.validation).toBe('pending');
      appendFileSync(path, bytes.subarray(offset, offset + chunk));
    }
    expect(active('policy')).toBe(1);
    await until(() => active('policy') === 2, 15_000, 'version 2 active once complete');
    expect(version('policy', 2)).toMatchObject({
      validation: 'valid',
      sizeBytes: bytes.length,
      sha256: createHash('sha256').update(bytes).digest('hex'),
    });
    expect(engine.snapshot().models[0]!.swaps.every((s) => s.ok)).toBe(true);
  });

  it('keeps serving the current version when the updater is killed during validation, then validates after its restart', async () => {
    const { repo, engine, supervisor, coordinator, version, active } = system({ validationDelayMs: 1500, settleMs: 0 });
    await repo.publish('policy', 1, policyModel(1));
    coordinator.start();
    await until(() => active('policy') === 1, 20_000, 'version 1 active');
    await repo.publish('policy', 2, policyModel(2));
    await until(() => version('policy', 2)?.validation === 'validating', 10_000, 'validating');
    const pid = supervisor.pid!;
    process.kill(pid, 'SIGKILL');
    const during = await outcomes(Array.from({ length: 50 }, (_, i) => engine.infer('policy', request(i))));
    expect(during).toEqual({ ok: 50 });
    expect(active('policy')).toBe(1);
    await until(() => supervisor.stats().restarts >= 1 && supervisor.pid !== pid, 10_000, 'updater restarted');
    await until(() => active('policy') === 2, 20_000, 'version 2 validated and active after the restart');
    // The new updater validates version 1 again (after version 2: newest first). Its verdict
    // is the same as before, and so not a second event.
    await until(() => version('policy', 1)?.validation === 'valid', 20_000, 'version 1 validated again');
    const validated = engine.events.since().filter((e) => e.kind === 'version-validated');
    expect(validated.map((e) => /version (\d+)/.exec(e.message)![1])).toEqual(['1', '2']);
  });
});
