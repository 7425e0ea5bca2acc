/**
 * Everything the product runs besides its window or HTTP front: the engine, the
 * updater process (through the launcher the shell provides), the coordinator between
 * them, and the synthetic load of the demo. The headless CLI and the Electron entry are
 * thin shells around this one host.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_MODEL_NAME, defaultPolicyModel } from '../demo/default-model.js';
import { SyntheticLoad, type SyntheticLoadOptions } from '../demo/synthetic-load.js';
import { Engine, type ModelServingConfigInput } from '../engine/index.js';
import { ModelCoordinator } from '../repository/coordinator.js';
import type { DashboardSnapshot, ProcessMetric } from './dashboard-snapshot.js';
import { publishModel, repositoryHasVersions } from '../repository/publish.js';
import type { UpdaterLauncher } from '../updater/launcher.js';
import type { UpdaterSettingsInput } from '../updater/protocol.js';
import { UpdaterSupervisor } from '../updater/supervisor.js';

export interface HostOptions {
  /** Model repository; a fresh temporary one (removed on stop) when absent. */
  readonly repository?: string;
  /** Publish the built-in demo policy as version 1 when the repository holds no model. */
  readonly seedDemo?: boolean;
  readonly launcher: UpdaterLauncher;
  /** Serving settings for models whose config.json leaves them out. */
  readonly defaults?: ModelServingConfigInput;
  /** Synthetic actors for the first model that loads; none when absent. */
  readonly load?: SyntheticLoadOptions;
  readonly updater?: Partial<UpdaterSettingsInput>;
}

export class SwitchboardHost {
  readonly engine = new Engine();
  readonly supervisor: UpdaterSupervisor;
  readonly coordinator: ModelCoordinator;
  readonly repository: string;
  private load: SyntheticLoad | undefined;
  private readonly ownsRepository: boolean;
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly options: HostOptions) {
    this.ownsRepository = options.repository === undefined;
    this.repository = options.repository ?? mkdtempSync(join(tmpdir(), 'switchboard-repository-'));
    mkdirSync(this.repository, { recursive: true });
    this.supervisor = new UpdaterSupervisor(
      options.launcher,
      { settings: { ...options.updater, repository: this.repository } },
      this.engine.events,
    );
    this.coordinator = new ModelCoordinator(this.engine, this.supervisor, this.repository, this.engine.events, options.defaults);
  }

  async start(): Promise<void> {
    if (this.options.seedDemo && !(await repositoryHasVersions(this.repository))) {
      await publishModel(this.repository, DEFAULT_MODEL_NAME, 1, defaultPolicyModel(1));
    }
    if (this.options.load) {
      const loadOptions = this.options.load;
      this.unsubscribe = this.engine.onEvent((event) => {
        if (event.kind !== 'model-loaded' || this.load || !event.model) return;
        this.load = new SyntheticLoad(this.engine.model(event.model), loadOptions);
        this.load.start();
      });
    }
    this.coordinator.start();
  }

  snapshot(processes: ProcessMetric[] | null = null): DashboardSnapshot {
    return { engine: this.engine.snapshot(), repository: this.coordinator.snapshot(), processes };
  }

  /** Stop the load, drain the engine, stop the updater; remove a temporary repository. */
  async stop(): Promise<void> {
    this.unsubscribe?.();
    await this.load?.stop();
    await this.coordinator.stop();
    await this.engine.stop();
    if (this.ownsRepository) rmSync(this.repository, { recursive: true, force: true });
  }
}
