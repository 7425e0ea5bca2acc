/**
 * The updater's picture of the repository: every version seen, whether its file has
 * settled, and its verdict. A verdict is kept until the file changes (size or mtime), so
 * a version is validated once, and again only if it is rewritten.
 */
import { readFile } from 'node:fs/promises';
import type { ModelSignature } from '../engine/signature.js';
import { configFilePath, modelFilePath, scanRepository } from '../repository/layout.js';
import { parseModelConfig, withDefaults } from '../repository/model-config.js';
import { truncateForReport } from './message-check.js';
import { LIMITS, type ModelView, type ToHost, type UpdaterSettings, type VersionState, type VersionView } from './protocol.js';
import { versionsToRetire } from './retention.js';
import type { ValidationRequest, Verdict } from './validate-model.js';

/** The most versions a policy keeps warm (model-config.ts). */
const MAX_KEEP_WARM = 8;

interface TrackedVersion {
  readonly version: number;
  sizeBytes: number;
  mtimeMs: number;
  ready: boolean;
  stableSince: number;
  state: VersionState;
  reason: string | null;
  sha256: string | null;
  signature: ModelSignature | null;
  timings: VersionView['timings'];
  batching: VersionView['batching'];
}

interface TrackedModel {
  config: unknown;
  configError: string | null;
  readonly versions: Map<number, TrackedVersion>;
}

export class RepositoryTracker {
  private readonly models = new Map<string, TrackedModel>();
  private readonly active = new Map<string, { version: number; signature: ModelSignature }>();
  private readonly forced = new Set<string>();
  /** Per model, the versions made active, most recent first: the engine keeps the first keepWarm of them loaded. */
  private readonly recentlyActive = new Map<string, number[]>();
  /** Per model, the versions the engine said it holds. */
  private readonly loaded = new Map<string, Set<number>>();
  /** What changed since the last `changes()`: models (added, removed, config) and versions. */
  private readonly dirtyModels = new Set<string>();
  private readonly dirtyVersions = new Map<string, Set<number>>();

  constructor(
    private readonly settings: UpdaterSettings,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** Re-read the repository; true if anything visible changed. */
  async scan(): Promise<boolean> {
    const found = await scanRepository(this.settings.repository);
    let changed = false;
    const seen = new Set<string>();
    for (const entry of found) {
      seen.add(entry.name);
      let model = this.models.get(entry.name);
      if (!model) {
        model = { config: null, configError: null, versions: new Map() };
        this.models.set(entry.name, model);
        this.dirtyModels.add(entry.name);
        changed = true;
      }
      if (await this.readConfig(entry.name, entry.hasConfig, model)) {
        this.dirtyModels.add(entry.name);
        changed = true;
      }
      const versions = new Set<number>();
      for (const v of entry.versions) {
        versions.add(v.version);
        const tracked = model.versions.get(v.version);
        if (!tracked || tracked.sizeBytes !== v.sizeBytes || tracked.mtimeMs !== v.mtimeMs) {
          model.versions.set(v.version, {
            version: v.version,
            sizeBytes: v.sizeBytes,
            mtimeMs: v.mtimeMs,
            ready: v.ready,
            stableSince: this.now(),
            state: 'pending',
            reason: tracked ? 'file changed; waiting for it to settle' : 'waiting for the file to settle',
            sha256: null,
            signature: null,
            timings: null,
            batching: null,
          });
          this.touch(entry.name, v.version);
          changed = true;
        } else if (v.ready !== tracked.ready) {
          tracked.ready = v.ready;
        }
      }
      for (const version of model.versions.keys()) {
        if (!versions.has(version)) {
          model.versions.delete(version);
          this.touch(entry.name, version);
          changed = true;
        }
      }
    }
    for (const name of this.models.keys()) {
      if (!seen.has(name)) {
        this.models.delete(name);
        this.dirtyModels.add(name);
        changed = true;
      }
    }
    return changed;
  }

  /** The newest settled version waiting for validation, as a request for the validator. */
  next(): { model: string; version: number; request: ValidationRequest } | undefined {
    const now = this.now();
    for (const [name, model] of this.models) {
      const candidates = [...model.versions.values()]
        .filter((v) => v.state === 'pending' && (v.ready || now - v.stableSince >= this.settings.settleMs))
        .sort((a, b) => b.version - a.version);
      const target = candidates[0];
      if (!target) continue;
      const active = this.active.get(name);
      return {
        model: name,
        version: target.version,
        request: {
          path: modelFilePath(this.settings.repository, name, target.version),
          maxBytes: this.settings.maxModelBytes,
          activeSignature: active?.signature ?? null,
          activeVersion: active?.version ?? null,
          force: this.forced.has(`${name}/${target.version}`),
          serving: this.servingOf(model),
        },
      };
    }
    return undefined;
  }

  markValidating(model: string, version: number): void {
    const v = this.models.get(model)?.versions.get(version);
    if (v) {
      v.state = 'validating';
      v.reason = null;
      this.touch(model, version);
    }
  }

  /** Record a verdict, unless the file changed while it was being validated. */
  setVerdict(model: string, version: number, verdict: Verdict, expected: { sizeBytes: number; mtimeMs: number }): void {
    const v = this.models.get(model)?.versions.get(version);
    if (!v || v.state !== 'validating' || v.sizeBytes !== expected.sizeBytes || v.mtimeMs !== expected.mtimeMs) return;
    this.touch(model, version);
    v.sha256 = verdict.sha256;
    if (verdict.ok) {
      v.state = 'valid';
      v.reason = null;
      v.signature = verdict.signature;
      v.timings = verdict.timings;
      v.batching = verdict.batching;
    } else {
      v.state = 'invalid';
      v.reason = truncateForReport(verdict.reason, LIMITS.reason);
    }
  }

  fileStamp(model: string, version: number): { sizeBytes: number; mtimeMs: number } | undefined {
    const v = this.models.get(model)?.versions.get(version);
    return v && { sizeBytes: v.sizeBytes, mtimeMs: v.mtimeMs };
  }

  setActive(model: string, version: number, signature: ModelSignature, loaded: readonly number[] = []): void {
    this.active.set(model, { version, signature });
    this.loaded.set(model, new Set([version, ...loaded]));
    const recent = this.recentlyActive.get(model) ?? [];
    // As the engine's version table keeps them (version-table.ts), up to the most keepWarm allows.
    this.recentlyActive.set(model, [version, ...recent.filter((v) => v !== version)].slice(0, MAX_KEEP_WARM));
  }

  /** What the retention of each model's version policy retires now (see retention.ts). */
  retirements(): { model: string; versions: number[]; retain: number }[] {
    const due: { model: string; versions: number[]; retain: number }[] = [];
    for (const [name, model] of this.models) {
      const policy = parseModelConfig(withDefaults(this.settings.servingDefaults, model.config)).config?.versionPolicy;
      if (policy?.retain === undefined) continue; // no retention, or a config.json in error: nothing moves
      if (!this.loaded.has(name)) continue; // until the host says what the engine holds (after a start, an updater restart)
      const kept = new Set([...(this.recentlyActive.get(name) ?? []).slice(0, policy.keepWarm), ...(this.loaded.get(name) ?? [])]);
      if (policy.kind === 'pinned') kept.add(policy.version);
      const versions = versionsToRetire([...model.versions.values()], policy.retain, kept);
      if (versions.length > 0) due.push({ model: name, versions, retain: policy.retain });
    }
    return due;
  }

  /** A version moved out of the repository (retired): gone from the picture at once, not at the next scan. */
  forget(model: string, version: number): void {
    if (this.models.get(model)?.versions.delete(version)) this.touch(model, version);
  }

  /** Accept a breaking change for this version: validate it again without the compatibility check. */
  force(model: string, version: number): void {
    this.forced.add(`${model}/${version}`);
    const v = this.models.get(model)?.versions.get(version);
    if (v && v.state !== 'validating') {
      this.reset(v, 'forced; validating again');
      this.touch(model, version);
    }
  }

  /** Forget every verdict (operator's reload). */
  revalidateAll(): void {
    for (const [name, model] of this.models) {
      for (const v of model.versions.values()) {
        if (v.state === 'validating') continue;
        this.reset(v, 'revalidating');
        this.touch(name, v.version);
      }
    }
  }

  /** The whole picture: sent once the updater is ready, and on a rescan request. */
  view(): ModelView[] {
    return [...this.models].map(([name, model]) => ({
      name,
      config: model.config,
      configError: model.configError,
      versions: [...model.versions.values()].sort((a, b) => a.version - b.version).map(versionView),
    }));
  }

  /**
   * What changed since the last call, as messages: a repository that holds thousands of
   * versions must not resend all of them each time one changes.
   */
  changes(): ToHost[] {
    const messages: ToHost[] = [];
    for (const name of this.dirtyModels) {
      const model = this.models.get(name);
      messages.push(
        model ? { type: 'model', name, config: model.config, configError: model.configError } : { type: 'model-removed', name },
      );
    }
    for (const [name, versions] of this.dirtyVersions) {
      const model = this.models.get(name);
      if (!model) continue;
      for (const version of versions) {
        const v = model.versions.get(version);
        messages.push(v ? { type: 'version', model: name, version: versionView(v) } : { type: 'version-removed', model: name, version });
      }
    }
    this.dirtyModels.clear();
    this.dirtyVersions.clear();
    return messages;
  }

  /** The settings the host would serve the model with: its config.json over the defaults (the defaults alone while the file is invalid). */
  private servingOf(model: TrackedModel): ValidationRequest['serving'] {
    const merged = parseModelConfig(withDefaults(this.settings.servingDefaults, model.config));
    // The host checked its defaults before it started; the schema's own defaults are the last resort.
    const config =
      merged.config ?? parseModelConfig(withDefaults(this.settings.servingDefaults, {})).config ?? parseModelConfig({}).config!;
    return {
      maxBatchSize: config.batching.maxBatchSize,
      batchingMode: config.batching.mode,
      workers: config.workers.count,
      maxInflightBatches: config.workers.maxInflightBatches,
      memoryBudgetBytes: config.memoryBudgetBytes,
    };
  }

  private touch(model: string, version: number): void {
    let versions = this.dirtyVersions.get(model);
    if (!versions) this.dirtyVersions.set(model, (versions = new Set()));
    versions.add(version);
  }

  private reset(v: TrackedVersion, reason: string): void {
    v.state = 'pending';
    v.reason = reason;
    v.ready = true; // the file itself has settled already
    v.sha256 = null;
    v.signature = null;
    v.timings = null;
    v.batching = null;
  }

  private async readConfig(name: string, exists: boolean, model: TrackedModel): Promise<boolean> {
    let config: unknown = null;
    let configError: string | null = null;
    if (exists) {
      try {
        config = JSON.parse(await readFile(configFilePath(this.settings.repository, name), 'utf8')) as unknown;
        const parsed = parseModelConfig(config);
        if (parsed.error !== null) configError = parsed.error;
      } catch (error) {
        configError = `config.json: ${(error as Error).message}`;
        config = null;
      }
    }
    if (configError !== null) configError = truncateForReport(configError, LIMITS.configError);
    const changed = JSON.stringify([config, configError]) !== JSON.stringify([model.config, model.configError]);
    model.config = config;
    model.configError = configError;
    return changed;
  }
}

function versionView(v: TrackedVersion): VersionView {
  return {
    version: v.version,
    state: v.state,
    reason: v.reason,
    sha256: v.sha256,
    sizeBytes: v.sizeBytes,
    mtimeMs: v.mtimeMs,
    signature: v.signature,
    timings: v.timings,
    batching: v.batching,
  };
}
