/**
 * Connects the updater's view of the repository to the engine: loads each model's
 * target version (the operator's pin, else the config's pin, else the newest valid
 * one), hot-swaps when the target changes, tells the updater what is active, and
 * remembers versions the engine refused (changed bytes, incompatible signature) until
 * their file changes. The engine re-checks every file's sha256 against the verdict.
 */
import { readFile } from 'node:fs/promises';
import type { Engine, ModelServingConfigInput, SwapKind, SwapRecord } from '../engine/index.js';
import { UnknownModelError, VersionUnavailableError, asError } from '../engine/errors.js';
import type { EventLog } from '../engine/events.js';
import type { ModelView, ToHost, VersionState, VersionView } from '../updater/protocol.js';
import type { UpdaterStats, UpdaterSupervisor } from '../updater/supervisor.js';
import { ms } from '../../src-preload/format.js';
import { modelFilePath } from './layout.js';
import { parseModelConfig, withDefaults, type RepositoryModelConfig, type VersionPolicy } from './model-config.js';

export interface RepositoryVersionSnapshot {
  version: number;
  /** The updater's verdict; `refused` when it was valid but the engine would not load it. */
  validation: VersionState | 'refused';
  reason: string | null;
  /** Whether the engine holds it: active, warm for rollback, or draining old requests. */
  serving: 'active' | 'warm' | 'draining' | null;
  sha256: string | null;
  sizeBytes: number;
  timings: VersionView['timings'];
  /** The validation probe's evidence on batching (null: its shapes ruled batching out, or not validated). */
  batching: VersionView['batching'];
}

export interface RepositoryModelSnapshot {
  name: string;
  policy: VersionPolicy | null;
  /** config.json as read (null: none); what the settings form edits. */
  file: unknown;
  /** The settings in force: config.json over the host's defaults (null while the file is invalid). */
  settings: RepositoryModelConfig | null;
  /** Set by the operator (activate/rollback); cleared by "follow latest". */
  operatorPin: number | null;
  activeVersion: number | null;
  configError: string | null;
  versions: RepositoryVersionSnapshot[];
  swaps: SwapRecord[];
}

export interface RepositorySnapshot {
  root: string;
  updater: UpdaterStats;
  models: RepositoryModelSnapshot[];
}

/** What the coordinator uses of the updater's supervisor. */
export type UpdaterLink = Pick<UpdaterSupervisor, 'onMessage' | 'onReady' | 'start' | 'send' | 'stop' | 'stats'>;

export class ModelCoordinator {
  private view: ModelView[] = [];
  private readonly operatorPins = new Map<string, number>();
  private readonly forced = new Set<string>();
  /** Models the operator unloaded: not served again until loaded. */
  private readonly unloaded = new Set<string>();
  /** Versions the engine refused, by "model/version", with the sha256 refused (a new file is tried again). */
  private readonly refused = new Map<string, { sha256: string | null; reason: string }>();
  /** The verdict last reported per "model/version" (state, sha256, reason). */
  private readonly verdicts = new Map<string, string>();
  /** The config error last reported per model. */
  private readonly configErrors = new Map<string, string>();
  private reconciling = false;
  private again = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly engine: Engine,
    private readonly supervisor: UpdaterLink,
    private readonly root: string,
    private readonly events: EventLog,
    /** Serving settings for models whose config.json does not set them (e.g. from the command line). */
    private readonly defaults: ModelServingConfigInput = {},
  ) {}

  start(): void {
    this.supervisor.onMessage((message) => {
      if (message.type === 'log') return;
      this.apply(message);
      this.reconcile();
    });
    // A restarted updater knows nothing: tell it what is active so it checks compatibility.
    this.supervisor.onReady(() => this.announceActive());
    this.supervisor.start();
  }

  /** Fold one updater message into the view: the whole repository, or one change. */
  private apply(message: Exclude<ToHost, { type: 'ready' | 'heartbeat' | 'log' }>): void {
    const model = (name: string): ModelView => {
      let view = this.view.find((m) => m.name === name);
      if (!view) {
        view = { name, config: null, configError: null, versions: [] };
        this.view.push(view);
        this.view.sort((a, b) => a.name.localeCompare(b.name));
      }
      return view;
    };
    switch (message.type) {
      case 'repository':
        this.view = message.models;
        for (const m of this.view) for (const v of m.versions) this.reportVerdict(m.name, v);
        break;
      case 'model':
        Object.assign(model(message.name), { config: message.config, configError: message.configError });
        break;
      case 'model-removed':
        this.view = this.view.filter((m) => m.name !== message.name);
        break;
      case 'version': {
        const versions = model(message.model).versions;
        const index = versions.findIndex((v) => v.version >= message.version.version);
        this.reportVerdict(message.model, message.version);
        if (index < 0) versions.push(message.version);
        else if (versions[index]!.version === message.version.version) versions[index] = message.version;
        else versions.splice(index, 0, message.version);
        break;
      }
      case 'version-removed': {
        const view = model(message.model);
        view.versions = view.versions.filter((v) => v.version !== message.version);
        break;
      }
    }
  }

  /**
   * An event when the updater's verdict on a version changes: a new version, a changed
   * file, or a revalidation that came out differently. An invalid version is otherwise seen
   * only on the Models page. A restarted updater validates everything again; verdicts it
   * repeats are not news. Serving a version is the engine's own event (model-loaded,
   * model-swapped).
   */
  private reportVerdict(model: string, view: VersionView): void {
    if (view.state !== 'valid' && view.state !== 'invalid') return;
    const key = `${model}/${view.version}`;
    const verdict = `${view.state} ${view.sha256 ?? ''} ${view.reason ?? ''}`;
    if (this.verdicts.get(key) === verdict) return;
    this.verdicts.set(key, verdict);
    const which = `model "${model}" version ${view.version}`;
    if (view.state === 'valid') {
      const timings = view.timings ? ` (load ${ms(view.timings.loadMs)} ms, warm-up ${ms(view.timings.warmupMs)} ms)` : '';
      this.events.emit('info', 'version-validated', `${which} is valid${timings}`, { model });
    } else {
      this.events.emit('warn', 'version-invalid', `${which} is invalid: ${view.reason ?? 'no reason given'}`, { model });
    }
  }

  /** An event when a model's config.json becomes invalid (once per distinct error): no version of it loads until it is fixed. */
  private reportConfigError(model: string, error: string | null): void {
    if (error === (this.configErrors.get(model) ?? null)) return;
    if (error === null) {
      this.configErrors.delete(model);
      return;
    }
    this.configErrors.set(model, error);
    const message = `model "${model}": config.json is invalid, no new version is served until it is fixed: ${error}`;
    this.events.emit('error', 'config-invalid', message, { model });
  }

  /**
   * Serve this version and stop following the newest (rollback or pin). Resolves once it
   * serves; a version that is absent, not valid, or refused by the engine is an error, and
   * the pin that was there before stays.
   */
  async activate(model: string, version: number): Promise<void> {
    const view = this.modelView(model);
    const target = view.versions.find((v) => v.version === version);
    if (!target) throw new VersionUnavailableError(model, version, 'is not in the repository');
    if (target.state === 'invalid') throw new VersionUnavailableError(model, version, `is invalid: ${target.reason ?? 'no reason given'}`);
    if (target.state !== 'valid') throw new VersionUnavailableError(model, version, `is ${target.state}: not validated yet`);
    const key = `${model}/${version}`;
    const previousPin = this.operatorPins.get(model);
    this.operatorPins.set(model, version);
    this.refused.delete(key);
    await this.reconcileNow();
    if (this.engine.modelNames().includes(model) && this.engine.model(model).version === version) return;
    if (previousPin === undefined) this.operatorPins.delete(model);
    else this.operatorPins.set(model, previousPin);
    const refusal = this.refused.get(key);
    const configError = this.configErrors.get(model);
    throw new VersionUnavailableError(
      model,
      version,
      refusal
        ? `was refused: ${refusal.reason}`
        : configError
          ? `is not served while config.json is invalid: ${configError}`
          : 'was not served',
    );
  }

  /** Drop the operator's pin: serve what the policy says (the newest valid version by default). */
  followLatest(model: string): Promise<void> {
    this.modelView(model);
    this.operatorPins.delete(model);
    return this.reconcileNow();
  }

  /**
   * Serve a model again after `unload` (or look again at one that would not load): resolves
   * once it serves, else fails with why (no valid version, refused, config invalid).
   */
  async load(model: string): Promise<void> {
    const view = this.modelView(model);
    this.unloaded.delete(model);
    await this.reconcileNow();
    if (this.engine.modelNames().includes(model)) return;
    const configError = this.configErrors.get(model);
    const refusals = view.versions.map((v) => this.refused.get(`${model}/${v.version}`)?.reason).filter(Boolean);
    const why = configError
      ? `its config.json is invalid: ${configError}`
      : refusals.length > 0
        ? `every valid version was refused: ${refusals.join('; ')}`
        : 'it has no valid version';
    throw new VersionUnavailableError(model, view.versions.at(-1)?.version ?? 0, `cannot be served: ${why}`);
  }

  /** Stop serving a model until `load`: accepted requests are answered first (Engine.unloadModel). */
  async unload(model: string): Promise<void> {
    this.modelView(model);
    this.unloaded.add(model);
    await this.settled(); // a reconciliation under way may be loading it
    if (this.engine.modelNames().includes(model)) await this.engine.unloadModel(model);
  }

  /** Whether the operator unloaded the model. */
  isUnloaded(model: string): boolean {
    return this.unloaded.has(model);
  }

  /** Re-scan the repository and validate every version again. */
  reload(model: string): void {
    this.modelView(model);
    for (const key of [...this.refused.keys()]) if (key.startsWith(`${model}/`)) this.refused.delete(key);
    this.supervisor.send({ type: 'rescan', revalidate: true });
  }

  private modelView(model: string): ModelView {
    const view = this.view.find((m) => m.name === model);
    if (!view) throw new UnknownModelError(model);
    return view;
  }

  /** Accept a breaking signature change for one version. */
  force(model: string, version: number): void {
    this.forced.add(`${model}/${version}`);
    this.refused.delete(`${model}/${version}`);
    this.supervisor.send({ type: 'force', model, version });
  }

  snapshot(): RepositorySnapshot {
    const loaded = new Set(this.engine.modelNames());
    return {
      root: this.root,
      updater: this.supervisor.stats(),
      models: this.view.map((model) => {
        const parsed = parseModelConfig(withDefaults(this.defaults, model.config));
        const serving = loaded.has(model.name)
          ? new Map(this.engine.modelVersions(model.name).map((v) => [v.version, v.state]))
          : new Map<number, never>();
        return {
          name: model.name,
          policy: parsed.config?.versionPolicy ?? null,
          file: model.config,
          settings: parsed.config,
          operatorPin: this.operatorPins.get(model.name) ?? null,
          activeVersion: loaded.has(model.name) ? this.engine.model(model.name).version : null,
          configError: model.configError ?? parsed.error,
          versions: model.versions.map((v) => {
            const refusal = this.refused.get(`${model.name}/${v.version}`);
            const refusedNow = refusal && refusal.sha256 === v.sha256;
            return {
              version: v.version,
              validation: refusedNow ? 'refused' : v.state,
              reason: refusedNow ? refusal.reason : v.reason,
              serving: serving.get(v.version) ?? null,
              sha256: v.sha256,
              sizeBytes: v.sizeBytes,
              timings: v.timings,
              batching: v.batching,
            };
          }),
          swaps: loaded.has(model.name) ? this.engine.swapHistory(model.name).slice(-20) : [],
        };
      }),
    };
  }

  /** Resolves when no reconciliation is running or pending. */
  settled(): Promise<void> {
    if (!this.reconciling) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  async stop(): Promise<void> {
    await this.supervisor.stop();
  }

  private reconcileNow(): Promise<void> {
    this.reconcile();
    return this.settled();
  }

  private reconcile(): void {
    if (this.reconciling) {
      this.again = true;
      return;
    }
    this.reconciling = true;
    void (async () => {
      do {
        this.again = false;
        for (const model of this.view) {
          try {
            await this.reconcileModel(model);
          } catch (error) {
            this.events.emit('error', 'version-rejected', `model "${model.name}": ${asError(error).message}`, { model: model.name });
          }
        }
      } while (this.again);
      this.reconciling = false;
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    })();
  }

  private target(model: ModelView, config: RepositoryModelConfig): VersionView | undefined {
    const usable = (v: VersionView) => v.state === 'valid' && this.refused.get(`${model.name}/${v.version}`)?.sha256 !== v.sha256;
    const pin = this.operatorPins.get(model.name) ?? (config.versionPolicy.kind === 'pinned' ? config.versionPolicy.version : undefined);
    if (pin !== undefined) return model.versions.find((v) => v.version === pin && usable(v));
    return [...model.versions].reverse().find(usable);
  }

  private async reconcileModel(model: ModelView): Promise<void> {
    const parsed = parseModelConfig(withDefaults(this.defaults, model.config));
    // A config.json the updater could not read (configError) may have meant to pin a version:
    // serving the defaults' choice instead could swap to a version the operator ruled out.
    this.reportConfigError(model.name, model.configError ?? parsed.error);
    if (model.configError || !parsed.config) return; // the loaded version keeps serving
    if (this.unloaded.has(model.name)) return;
    const config = parsed.config;
    const target = this.target(model, config);
    if (!target?.sha256) return;
    const loaded = this.engine.modelNames().includes(model.name);
    const active = loaded ? this.engine.model(model.name).version : undefined;
    if (active === target.version) return;
    const key = `${model.name}/${target.version}`;
    try {
      const bytes = new Uint8Array(await readFile(modelFilePath(this.root, model.name, target.version)));
      if (!loaded) {
        const { versionPolicy: _policy, ...serving } = config;
        await this.engine.loadModel({
          name: model.name,
          source: bytes,
          version: target.version,
          config: serving,
          expectedSha256: target.sha256,
          evidence: target.batching,
        });
      } else {
        const kind: SwapKind = this.operatorPins.has(model.name) ? (target.version < active! ? 'rollback' : 'activate') : 'follow-latest';
        await this.engine.swapModel(
          model.name,
          { version: target.version, bytes, expectedSha256: target.sha256, force: this.forced.has(key), kind, evidence: target.batching },
          config.versionPolicy.keepWarm,
        );
      }
      this.announceActive();
    } catch (error) {
      const reason = asError(error).message;
      this.refused.set(key, { sha256: target.sha256, reason });
      this.events.emit('error', 'version-rejected', `model "${model.name}" version ${target.version} refused: ${reason}`, {
        model: model.name,
      });
      this.again = true; // try the next candidate
    }
  }

  private announceActive(): void {
    for (const name of this.engine.modelNames()) {
      const model = this.engine.model(name);
      const loaded = this.engine.modelVersions(name).map((v) => v.version);
      this.supervisor.send({ type: 'active', model: name, version: model.version, signature: model.signature, loaded });
    }
  }
}
