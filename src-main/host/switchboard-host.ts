/**
 * Everything the product runs besides its window or HTTP front: the engine, the
 * updater process (through the launcher the shell provides), the coordinator between
 * them, and the built-in demo. The headless CLI and the Electron entry are thin shells
 * around this one host, whichever way they start: on a model repository (the default),
 * or on one ONNX file with no repository or updater (`serve --model`).
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
import type { DashboardSnapshot, EndpointsSnapshot, ProcessMetric } from '../../src-preload/wire.js';
import { OwnProcessMetrics } from './process-metrics.js';
import { publishModel, repositoryHasVersions } from '../repository/publish.js';
import { publishUpload } from '../repository/upload.js';
import { configureModel, type ConfigureResult } from '../repository/model-settings.js';
import type { ModelUploads } from '../server/model-upload.js';
import type { UpdaterLauncher } from '../updater/launcher.js';
import { DEFAULT_MAX_MODEL_BYTES, type UpdaterSettingsInput } from '../updater/protocol.js';
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

interface CommonHostOptions {
  readonly demo?: DemoOptions;
  /** Serving settings for models whose config.json leaves them out (and for a model file). */
  readonly defaults?: ModelServingConfigInput;
}

export interface RepositoryHostOptions extends CommonHostOptions {
  /** Model repository; a fresh temporary one (removed on stop) when absent. */
  readonly repository?: string;
  readonly launcher: UpdaterLauncher;
  readonly updater?: Partial<UpdaterSettingsInput>;
  readonly modelFile?: undefined;
}

/** One file served as version 1 of `name`: versions, the updater and the experience buffer are not there. */
export interface ModelFileHostOptions extends CommonHostOptions {
  readonly modelFile: { readonly name: string; readonly path: string };
}

export type HostOptions = RepositoryHostOptions | ModelFileHostOptions;

/** What a repository start adds: the updater, the coordinator, and where the models are. */
interface RepositoryParts {
  readonly path: string;
  readonly supervisor: UpdaterSupervisor;
  readonly coordinator: ModelCoordinator;
  /** The largest model file a version may be: validation's limit, and an upload's. */
  readonly maxModelBytes: number;
  /** The repository made for this host when it was given none (removed at stop, or at exit). */
  readonly temporary: TemporaryRepository | undefined;
}

export class SwitchboardHost {
  readonly engine = new Engine();
  private readonly parts: RepositoryParts | undefined;
  private load: SyntheticLoad | undefined;
  private loop: CartPoleLoop | undefined;
  private readonly ownProcess = new OwnProcessMetrics();
  private unsubscribe: (() => void) | undefined;
  private endpoints: (() => EndpointsSnapshot) | undefined;

  constructor(private readonly options: HostOptions) {
    this.parts = options.modelFile ? undefined : this.openRepository(options);
  }

  /** The repository's updater; undefined when one file is served. */
  get supervisor(): UpdaterSupervisor | undefined {
    return this.parts?.supervisor;
  }

  /** Versions and pins of the repository's models; undefined when one file is served. */
  get coordinator(): ModelCoordinator | undefined {
    return this.parts?.coordinator;
  }

  /** The model repository; undefined when one file is served. */
  get repository(): string | undefined {
    return this.parts?.path;
  }

  /** Whether the repository is the temporary one made for this host. */
  get repositoryIsTemporary(): boolean {
    return this.parts?.temporary !== undefined;
  }

  /** The CartPole loop, when that is the demo running. */
  get cartpole(): CartPoleLoop | undefined {
    return this.loop;
  }

  /** The experience buffer service; commands on it fail with NO_EXPERIENCE_BUFFER when no demo runs one. */
  get experience(): ExperienceService {
    if (!this.loop) {
      const why = this.parts ? 'the running demo has none' : 'one file is served (--model), with no actors';
      throw new ExperienceError('NO_EXPERIENCE_BUFFER', `no experience buffer: ${why}`);
    }
    return this.loop.experience;
  }

  async start(): Promise<void> {
    const demo = this.options.demo ?? { kind: 'none' };
    const parts = this.parts;
    if (parts && demo.kind === 'synthetic' && !(await repositoryHasVersions(parts.path))) {
      await publishModel(parts.path, DEFAULT_MODEL_NAME, 1, defaultPolicyModel(1));
    }
    if (demo.kind === 'cartpole') {
      if (!parts)
        throw new RepositoryPathError('the CartPole demo publishes policy versions: it needs a model repository, not a model file');
      this.loop = await CartPoleLoop.open(this.engine, parts.path, demo.loop);
      this.loop.start();
    } else if (demo.load) {
      const loadOptions = demo.load;
      this.unsubscribe = this.engine.onEvent((event) => {
        if (event.kind !== 'model-loaded' || this.load || !event.model) return;
        this.load = new SyntheticLoad(this.engine.model(event.model), loadOptions);
        this.load.start();
      });
    }
    if (parts) parts.coordinator.start();
    else await this.loadModelFile();
  }

  private async loadModelFile(): Promise<void> {
    const file = this.options.modelFile!;
    try {
      await this.engine.loadModel({ name: file.name, source: file.path, config: this.options.defaults });
    } catch (error) {
      await this.stop(); // the synthetic load's listener and the engine's monitors must not keep the process alive
      throw error;
    }
  }

  private openRepository(options: RepositoryHostOptions): RepositoryParts {
    const temporary = options.repository === undefined ? createTemporaryRepository() : undefined;
    const path = options.repository ?? temporary!.path;
    try {
      mkdirSync(path, { recursive: true });
    } catch (error) {
      throw new RepositoryPathError(`cannot use ${path} as the model repository: ${asError(error).message}`, { cause: error });
    }
    const supervisor = new UpdaterSupervisor(
      options.launcher,
      { settings: { ...options.updater, repository: path, servingDefaults: { ...options.defaults } } },
      this.engine.events,
    );
    const coordinator = new ModelCoordinator(this.engine, supervisor, path, this.engine.events, options.defaults);
    return { path, supervisor, coordinator, maxModelBytes: options.updater?.maxModelBytes ?? DEFAULT_MAX_MODEL_BYTES, temporary };
  }

  /**
   * CPU and memory of this process (the engine and its threads) and of the updater, for a
   * dashboard where Electron's app metrics are not at hand (headless).
   */
  processMetrics(): ProcessMetric[] {
    const own = this.ownProcess.sample();
    const updater = this.parts?.supervisor.stats();
    if (!updater || updater.pid === null) return [own];
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

  /** Adding a model file as the next version of a model (the dashboard's upload); undefined when one file is served. */
  get uploads(): ModelUploads | undefined {
    const parts = this.parts;
    if (!parts) return undefined;
    return {
      maxBytes: parts.maxModelBytes,
      publish: async (model, body, limit) => {
        const published = await publishUpload(parts.path, model, body, limit);
        this.engine.events.emit('info', 'version-added', `model "${model}" version ${published.version} added (${published.bytes} bytes)`, {
          model,
        });
        return published;
      },
    };
  }

  /** Write a model's config.json from the dashboard (see model-settings.ts); undefined when one file is served. */
  get configureModel(): ((model: string, config: Record<string, unknown>) => Promise<ConfigureResult>) | undefined {
    const parts = this.parts;
    return parts && ((model, config) => configureModel(parts.path, this.engine, model, config, this.options.defaults));
  }

  /** The servers the shell started for other processes (the inference API, metrics): their view goes into the snapshot. */
  showEndpoints(endpoints: () => EndpointsSnapshot): void {
    this.endpoints = endpoints;
  }

  snapshot(processes: ProcessMetric[] = this.processMetrics()): DashboardSnapshot {
    const loop = this.loop;
    return {
      engine: this.engine.snapshot(),
      repository: this.parts?.coordinator.snapshot() ?? null,
      processes,
      experience: loop ? loop.experience.snapshot(loop.activeVersion()) : null,
      loop: loop ? loop.snapshot() : null,
      endpoints: this.endpoints?.() ?? null,
    };
  }

  /** Stop the demo, drain the engine, stop the updater; remove a temporary repository. */
  async stop(): Promise<void> {
    this.unsubscribe?.();
    await this.load?.stop();
    await this.loop?.stop();
    await this.parts?.coordinator.stop();
    await this.engine.stop();
    this.parts?.temporary?.remove();
  }
}
