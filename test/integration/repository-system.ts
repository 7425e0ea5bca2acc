/**
 * A repository, an engine and a real updater process with its coordinator, all stopped
 * and removed after each test: what the repository tests run against.
 */
import { afterEach } from 'vitest';
import { Engine, type ModelServingConfigInput } from '../../src-main/engine/index.js';
import { ModelCoordinator, type RepositoryVersionSnapshot } from '../../src-main/repository/coordinator.js';
import { forkLauncher } from '../../src-main/updater/launcher.js';
import type { UpdaterSettingsInput } from '../../src-main/updater/protocol.js';
import { UpdaterSupervisor } from '../../src-main/updater/supervisor.js';
import { TestRepository } from '../fixtures/repository.js';

export const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

export function system(settings: Partial<UpdaterSettingsInput> = {}, defaults: ModelServingConfigInput = {}) {
  const repo = new TestRepository();
  const engine = new Engine();
  const supervisor = new UpdaterSupervisor(
    forkLauncher(),
    {
      settings: {
        repository: repo.root,
        scanIntervalMs: 50,
        settleMs: 200,
        heartbeatIntervalMs: 200,
        servingDefaults: { ...defaults },
        ...settings,
      },
      backoffInitialMs: 50,
    },
    engine.events,
  );
  const coordinator = new ModelCoordinator(engine, supervisor, repo.root, engine.events, defaults);
  cleanups.push(() => repo.cleanup());
  cleanups.push(() => engine.stop(1000));
  cleanups.push(() => coordinator.stop());
  const version = (model: string, v: number): RepositoryVersionSnapshot | undefined =>
    coordinator
      .snapshot()
      .models.find((m) => m.name === model)
      ?.versions.find((x) => x.version === v);
  const active = (model: string) => coordinator.snapshot().models.find((m) => m.name === model)?.activeVersion ?? null;
  return { repo, engine, supervisor, coordinator, version, active };
}
