/**
 * Everything the product runs besides its window or HTTP front: the engine, the
 * updater process (through the launcher the shell provides), the coordinator between
 * them, and the built-in demo. The headless CLI and the Electron entry are thin shells
 * around this one host.
 */
import { mkdirSync } from 'node:fs';
import { CartPoleLoop, type CartPoleLoopOptions } from '../demo/cartpole-loop.js';
import { DEFAULT_MODEL_NAME, defaultPolicyModel } from '../demo/default-model.js';
import { SyntheticLoad, type SyntheticLoadOptions } from '../demo/synthetic-load.js';
import { Engine, type ModelServingConfigInput } from '../engine/index.js';
import { asError } from '../engine/errors.js';
import { ExperienceError, type ExperienceService } from '../experience/service.js';
import { ModelCoordinator } from '../repository/coordinator.js';
import { RepositoryPathError } from '../repository/layout.js';
import type { DashboardSnapshot, ProcessMetric } from '../../src-preload/wire.js';
import { OwnProcessMetrics } from './process-metrics.js';
import { publishModel, repositoryHasVersions } from '../repository/publish.js';
import type { UpdaterLauncher } from '../updater/launcher.js';
import type { UpdaterSettingsInput } from '../updater/protocol.js';
import { UpdaterSupervisor } from '../updater/supervisor.js';
import { createTemporaryRepository, type TemporaryRepository } from './temporary-repository.js';

/**
 * The built-in demo. `cartpole`: the actor-learner loop (the default of both shells).
 * `synthetic`: the policy MLP 64-256-256-8 published as version 1 when the repository is
 * empty, under synthetic request load. `none`: serve the repository as it is.
 */
export type DemoOptions =
  | { readonly kind: 'cartpole'; readonly loop?: CartPoleLoopOptions }
  | { readonly kind: 'synthetic'; readonly load?: SyntheticLoadOptions }
  | { readonly kind: 'none'; readonly load?: SyntheticLoadOptions };

export interface HostOptions {
  /** Model repository; a fresh temporary one (removed on stop) when absent. */
  readonly repository?: string;
  readonly demo?: DemoOptions;
  readonly launcher: UpdaterLauncher;
  /** Serving settings for models whose config.json leaves them out. */
  readonly defaults?: ModelServingConfigInput;
  readonly updater?: Partial<UpdaterSettingsInput>;
}

export class SwitchboardHost {
  readonly engine = new Engine();
  readonly supervisor: UpdaterSupervisor;
  readonly coordinator: ModelCoordinator;
  readonly repository: string;
  private load: SyntheticLoad | undefined;
  private loop: CartPoleLoop | undefined;
  /** The repository made for this host when it was given none (removed at stop, or at exit). */
  private readonly temporary: TemporaryRepository | undefined;
  private readonly ownProcess = new OwnProcessMetrics();
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly options: HostOptions) {
    this.temporary = options.repository === undefined ? createTemporaryRepository() : undefined;
    this.repository = options.repository ?? this.temporary!.path;
    try {
      mkdirSync(this.repository, { recursive: true });
    } catch (error) {
      throw new RepositoryPathError(`cannot use ${this.repository} as the model repository: ${asError(error).message}`, { cause: error });
    }
    this.supervisor = new UpdaterSupervisor(
      options.launcher,
      { settings: { ...options.updater, repository: this.repository, servingDefaults: { ...options.defaults } } },
      this.engine.events,
    );
    this.coordinator = new ModelCoordinator(this.engine, this.supervisor, this.repository, this.engine.events, options.defaults);
  }

  /** The CartPole loop, when that is the demo running. */
  get cartpole(): CartPoleLoop | undefined {
    return this.loop;
  }

  /** The experience buffer service; commands on it fail with NO_EXPERIENCE_BUFFER when no demo runs one. */
  get experience(): ExperienceService {
    if (!this.loop) throw new ExperienceError('NO_EXPERIENCE_BUFFER', 'no experience buffer: the running demo has none');
    return this.loop.experience;
  }

  async start(): Promise<void> {
    const demo = this.options.demo ?? { kind: 'none' };
    if (demo.kind === 'synthetic' && !(await repositoryHasVersions(this.repository))) {
      await publishModel(this.repository, DEFAULT_MODEL_NAME, 1, defaultPolicyModel(1));
    }
    if (demo.kind === 'cartpole') {
      this.loop = await CartPoleLoop.open(this.engine, this.repository, demo.loop);
      this.loop.start();
    } else if (demo.load) {
      const loadOptions = demo.load;
      this.unsubscribe = this.engine.onEvent((event) => {
        if (event.kind !== 'model-loaded' || this.load || !event.model) return;
        this.load = new SyntheticLoad(this.engine.model(event.model), loadOptions);
        this.load.start();
      });
    }
    this.coordinator.start();
  }

  /**
   * CPU and memory of this process (the engine and its threads) and of the updater, for a
   * dashboard where Electron's app metrics are not at hand (headless).
   */
  processMetrics(): ProcessMetric[] {
    const own = this.ownProcess.sample();
    const updater = this.supervisor.stats();
    if (updater.pid === null) return [own];
    return [
      own,
      {
        pid: updater.pid,
        type: 'updater',
        name: 'model updater',
        cpuPercent: updater.cpuPercent,
        memoryKb: updater.rssBytes === null ? null : updater.rssBytes / 1024,
      },
    ];
  }

  snapshot(processes: ProcessMetric[] = this.processMetrics()): DashboardSnapshot {
    const loop = this.loop;
    return {
      engine: this.engine.snapshot(),
      repository: this.coordinator.snapshot(),
      processes,
      experience: loop ? loop.experience.snapshot(loop.activeVersion()) : null,
      loop: loop ? loop.snapshot() : null,
    };
  }

  /** Stop the demo, drain the engine, stop the updater; remove a temporary repository. */
  async stop(): Promise<void> {
    this.unsubscribe?.();
    await this.load?.stop();
    await this.loop?.stop();
    await this.coordinator.stop();
    await this.engine.stop();
    this.temporary?.remove();
  }
}
