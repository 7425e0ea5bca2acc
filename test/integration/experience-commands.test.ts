import { afterEach, describe, expect, it } from 'vitest';
import { SwitchboardHost } from '../../src-main/host/switchboard-host.js';
import { CommandExecutor } from '../../src-main/host/command-executor.js';
import { forkLauncher } from '../../src-main/updater/launcher.js';
import { until } from './helpers.js';

const hosts: SwitchboardHost[] = [];
afterEach(async () => {
  for (const host of hosts.splice(0)) await host.stop();
});

async function started(demo: ConstructorParameters<typeof SwitchboardHost>[0]['demo']): Promise<SwitchboardHost> {
  const host = new SwitchboardHost({ launcher: forkLauncher(), demo });
  hosts.push(host);
  await host.start();
  return host;
}

describe('experience commands', () => {
  it('are typed errors when the running demo has no experience buffer', async () => {
    const executor = new CommandExecutor(await started({ kind: 'none' }));
    expect(await executor.execute({ id: 1, command: 'experience.checkpoint', args: {} })).toEqual({
      id: 1,
      ok: false,
      error: { code: 'NO_EXPERIENCE_BUFFER', message: expect.stringMatching(/no experience buffer/) as unknown },
    });
  });

  it('clear needs the confirmation in the message; sampler settings are validated before anything changes', async () => {
    const host = await started({ kind: 'cartpole', loop: { actors: 1, envsPerActor: 4 } });
    const executor = new CommandExecutor(host);
    // The first transitions come once the learner's first version is validated and served:
    // seconds when idle, more than 30 s was seen under a loaded run of the whole suite. The
    // check reads the buffer alone, not the whole dashboard snapshot, polled on every turn.
    const experience = host.cartpole!.experience;
    await until(() => experience.snapshot(null).size > 0, 60_000, 'the actors writing transitions');
    expect(await executor.execute({ id: 2, command: 'experience.clear', args: {} })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_COMMAND' },
    });
    expect(host.snapshot().experience!.size).toBeGreaterThan(0);
    expect(await executor.execute({ id: 3, command: 'experience.configure', args: { sampler: 'lifo' } })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_COMMAND' },
    });
    expect(await executor.execute({ id: 4, command: 'experience.configure', args: { minSize: 10_000_000 } })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_SETTINGS', message: expect.stringMatching(/exceeds the buffer's capacity/) as unknown },
    });
    expect(host.snapshot().experience!.settings.sampler).toBe('prioritized');
    expect(await executor.execute({ id: 5, command: 'experience.configure', args: { sampler: 'uniform', batchSize: 64 } })).toMatchObject({
      ok: true,
      result: { sampler: 'uniform', batchSize: 64 },
    });
    const cleared = await executor.execute({ id: 6, command: 'experience.clear', args: { confirm: true } });
    expect(cleared).toMatchObject({ ok: true, result: { removed: expect.any(Number) as unknown } });
    expect(host.snapshot().experience!.settings.sampler).toBe('uniform');
  }, 120_000);
});
