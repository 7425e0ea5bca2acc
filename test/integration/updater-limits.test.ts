/**
 * The updater link under what real repositories hold: long tensor names, a sibling
 * model's config.json error too long for one message, and versions too costly to serve.
 */
import { describe, expect, it } from 'vitest';
import { OnnxGraphBuilder } from '../../src-main/models/onnx-builder.js';
import { UPDATER_ENTRY } from '../../src-main/updater/launcher.js';
import { LIMITS, SETTINGS_ENV } from '../../src-main/updater/protocol.js';
import { forkModule } from '../../src-main/util/spawn.js';
import { policyModel, TestRepository } from '../fixtures/repository.js';
import { until } from './helpers.js';
import { system } from './repository-system.js';

function identity(inputName: string, width: number): Uint8Array {
  return new OnnxGraphBuilder('identity')
    .input(inputName, 'float32', ['N', width])
    .output('y', 'float32', ['N', width])
    .node('Identity', [inputName], ['y'])
    .build();
}

describe('updater link limits', () => {
  it('serves a model whose input name is 300 characters long; it no longer stays "validating" forever', async () => {
    const { repo, engine, coordinator, active, version } = system();
    const name = 'StatefulPartitionedCall/'.repeat(12) + 'serving_default_input:0';
    expect(name.length).toBeGreaterThan(300);
    await repo.publish('exported', 1, identity(name, 4));
    coordinator.start();
    await until(() => active('exported') === 1, 20_000, 'the exported model to serve');
    expect(version('exported', 1)).toMatchObject({ validation: 'valid' });
    const result = await engine.infer('exported', { [name]: { data: new Float32Array([1, 2, 3, 4]), dims: [1, 4] } });
    expect(Array.from(result.outputs.y!.data as Float32Array)).toEqual([1, 2, 3, 4]);
  });

  it("keeps a pinned model's pin while a sibling's config.json error is longer than one message may carry", async () => {
    const { repo, coordinator, active, version } = system();
    repo.writeConfig('pinned', { versionPolicy: { kind: 'pinned', version: 1 } });
    await repo.publish('pinned', 1, policyModel(1));
    await repo.publish('pinned', 2, policyModel(2));
    // Thousands of unknown keys: zod's message about them runs far past the limit.
    repo.writeConfig('sibling', Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`unknownSetting${i}`, i])));
    await repo.publish('sibling', 1, policyModel(3));
    coordinator.start();
    await until(
      () => version('pinned', 2)?.validation === 'valid' && active('pinned') === 1,
      20_000,
      'version 2 validated and version 1 served',
    );
    const sibling = coordinator.snapshot().models.find((m) => m.name === 'sibling');
    expect(sibling?.configError).toMatch(/more characters\)$/); // shortened with a note, not refused
    expect(sibling!.configError!.length).toBeLessThanOrEqual(LIMITS.configError);
    expect(active('pinned')).toBe(1); // the pin held: it did not fall back to the latest version
    expect(active('sibling')).toBeNull(); // nothing is served for a model whose config cannot be read
  });

  it('refuses a version whose arenas would exceed its memory budget, with the figure in the reason', async () => {
    const { repo, engine, coordinator, version, active } = system();
    // 100,000 floats a row x 128 rows x (input + output) x 2 slots x 2 workers, plus staging: 488 MiB.
    repo.writeConfig('wide', { memoryBudgetBytes: 256 * 1024 ** 2 });
    await repo.publish('wide', 1, identity('x', 100_000));
    await repo.publish('small', 1, policyModel(1));
    coordinator.start();
    await until(() => version('wide', 1)?.validation === 'invalid' && active('small') === 1, 20_000, 'both verdicts');
    expect(version('wide', 1)!.reason).toMatch(
      /would reserve 488\.3 MiB \(2 workers x 2 arena slots x 128 rows: .*\), over the budget of 256\.0 MiB/,
    );
    expect(active('wide')).toBeNull();
    expect(engine.modelNames()).toEqual(['small']);
  });

  it('takes the budget from the host-wide defaults, which a config.json can raise', async () => {
    const { repo, coordinator, version, active } = system({}, { memoryBudgetBytes: 64 * 1024 ** 2 });
    await repo.publish('wide', 1, identity('x', 100_000));
    repo.writeConfig('raised', { memoryBudgetBytes: 1024 ** 3 });
    await repo.publish('raised', 1, identity('x', 100_000));
    coordinator.start();
    await until(() => version('wide', 1)?.validation === 'invalid' && active('raised') === 1, 30_000, 'both verdicts');
    expect(version('wide', 1)!.reason).toMatch(/over the budget of 64\.0 MiB/);
  });
});

describe('updater process and its host', () => {
  it('exits cleanly when its host goes away (the IPC channel closes), rather than dying on its next heartbeat', async () => {
    const repo = new TestRepository();
    const child = forkModule(UPDATER_ENTRY, {
      env: { ...process.env, [SETTINGS_ENV]: JSON.stringify({ repository: repo.root, heartbeatIntervalMs: 50 }) },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    await new Promise<void>((resolve) => child.on('message', (m: { type?: string }) => m.type === 'ready' && resolve()));
    child.disconnect(); // what the host's death looks like from the updater
    expect(await exited).toBe(0);
    expect(stderr).not.toMatch(/ERR_IPC_CHANNEL_CLOSED|Error/);
    repo.cleanup();
  });

  it('reports a verdict it cannot carry as invalid with the reason: no version stays "validating"', async () => {
    const { repo, coordinator, version } = system();
    await repo.publish('huge-name', 1, identity('n'.repeat(LIMITS.tensorName + 10), 4));
    coordinator.start();
    await until(() => version('huge-name', 1)?.validation === 'invalid', 20_000, 'a verdict');
    expect(version('huge-name', 1)!.reason).toMatch(/report of this version broke the protocol: .*signature\.inputs\[0\]\.name/);
  });
});
