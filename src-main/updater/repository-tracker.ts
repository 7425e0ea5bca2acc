/**
 * The updater's picture of the repository: every version seen, whether its file has
 * settled, and its verdict. A verdict is kept until the file changes (size or mtime), so
 * a version is validated once, and again only if it is rewritten.
 */
import type { ModelSignature } from '../engine/signature.js';
import {
  classifyPath,
  listModelNames,
  listVersionNumbers,
  modelFilePath,
  scanModel,
  scanRepository,
  scanVersion,
  type ModelEntry,
  type VersionEntry,
} from '../repository/layout.js';
import { parseModelConfig, withDefaults } from '../repository/model-config.js';
import { truncateForReport } from './message-check.js';
import { LIMITS, type ModelView, type ToHost, type UpdaterSettings } from './protocol.js';
import { EngineHoldings, versionsToRetire } from './retention.js';
import { configStamp, readModelConfig, versionView, type TrackedModel, type TrackedVersion } from './tracked-model.js';
import type { ValidationRequest, Verdict } from './validate-model.js';

export class RepositoryTracker {
  private readonly models = new Map<string, TrackedModel>();
  private readonly active = new Map<string, { version: number; signature: ModelSignature }>();
  private readonly forced = new Set<string>();
  private readonly holdings = new EngineHoldings();
  /** What changed since the last `changes()`: models (added, removed, config) and versions. */
  private readonly dirtyModels = new Set<string>();
  private readonly dirtyVersions = new Map<string, Set<number>>();

  constructor(
    private readonly settings: UpdaterSettings,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** Re-read the whole repository (at start, on the host's request, and now and then as a safety net); true if anything changed. */
  async scan(): Promise<boolean> {
    const found = await scanRepository(this.settings.repository);
    let changed = false;
    const seen = new Set<string>();
    for (const entry of found) {
      seen.add(entry.name);
      if (await this.applyModel(entry)) changed = true;
    }
    for (const name of [...this.models.keys()]) if (!seen.has(name) && this.forgetModel(name)) changed = true;
    return changed;
  }

  /**
   * Re-read only what these paths name (the file watcher's events): a version, a model's
   * config.json, or a model folder. A change costs the same in a repository of 10
   * versions or of 10,000. True if anything changed.
   */
  async refresh(paths: Iterable<string>): Promise<boolean> {
    const models = new Set<string>();
    const configs = new Set<string>();
    const versions = new Map<string, Set<number>>();
    for (const path of paths) {
      const named = classifyPath(this.settings.repository, path);
      if (named.kind === 'model') models.add(named.model);
      else if (named.kind === 'config') configs.add(named.model);
      else if (named.kind === 'version') {
        if (!versions.has(named.model)) versions.set(named.model, new Set());
        versions.get(named.model)!.add(named.version);
      }
    }
    let changed = false;
    for (const name of models) {
      const entry = await scanModel(this.settings.repository, name);
      if (entry ? await this.applyModel(entry) : this.forgetModel(name)) changed = true;
    }
    // Any event of a model looks at its config.json too (one stat): a version published just after the
    // file changed must not be served under settings the watcher has not reported yet.
    for (const name of new Set([...configs, ...versions.keys()])) {
      const model = this.models.get(name);
      if (!model || models.has(name)) continue;
      const stamp = await configStamp(this.settings.repository, name);
      if ((configs.has(name) || stamp !== model.configStamp) && (await this.readConfig(name, stamp !== null, model))) {
        this.dirtyModels.add(name);
        changed = true;
      }
    }
    for (const [name, numbers] of versions) {
      if (models.has(name)) continue; // read whole above
      const model = this.models.get(name);
      if (!model) {
        // A version of a model not seen yet: the model's folder is new, and read whole.
        const entry = await scanModel(this.settings.repository, name);
        if (entry && (await this.applyModel(entry))) changed = true;
        continue;
      }
      for (const version of numbers)
        if (this.applyVersion(name, model, version, await scanVersion(this.settings.repository, name, version))) changed = true;
    }
    return changed;
  }

  /**
   * The poll's look, the net under the file watcher: the names of models and versions (one
   * listing per folder, no stat of a version already known), each config.json's size and
   * time, and the versions still settling. What an event missed is found here; a known
   * version's file is not read again (a full scan now and then rereads those).
   */
  async settle(): Promise<boolean> {
    const root = this.settings.repository;
    let changed = false;
    const names = await listModelNames(root);
    for (const name of names)
      if (!this.models.has(name)) {
        const entry = await scanModel(root, name);
        if (entry && (await this.applyModel(entry))) changed = true;
      }
    for (const name of [...this.models.keys()]) if (!names.includes(name) && this.forgetModel(name)) changed = true;
    for (const [name, model] of this.models) {
      const listed = await listVersionNumbers(root, name);
      const look = [...listed].filter((v) => !model.versions.has(v));
      for (const v of model.versions.values()) if (!listed.has(v.version) || (v.state === 'pending' && !v.ready)) look.push(v.version);
      for (const version of look)
        if (this.applyVersion(name, model, version, listed.has(version) ? await scanVersion(root, name, version) : null)) changed = true;
      const stamp = await configStamp(root, name);
      if (stamp !== model.configStamp && (await this.readConfig(name, stamp !== null, model))) {
        this.dirtyModels.add(name);
        changed = true;
      }
    }
    return changed;
  }

  /** A model as listed: its config and each of its versions; true if anything changed. */
  private async applyModel(entry: ModelEntry): Promise<boolean> {
    let changed = false;
    let model = this.models.get(entry.name);
    if (!model) {
      model = { config: null, configError: null, configStamp: null, versions: new Map() };
      this.models.set(entry.name, model);
      this.dirtyModels.add(entry.name);
      changed = true;
    }
    if (await this.readConfig(entry.name, entry.hasConfig, model)) {
      this.dirtyModels.add(entry.name);
      changed = true;
    }
    const listed = new Set<number>();
    for (const v of entry.versions) {
      listed.add(v.version);
      if (this.applyVersion(entry.name, model, v.version, v)) changed = true;
    }
    for (const version of [...model.versions.keys()])
      if (!listed.has(version) && this.applyVersion(entry.name, model, version, null)) changed = true;
    return changed;
  }

  private forgetModel(name: string): boolean {
    if (!this.models.delete(name)) return false;
    this.dirtyModels.add(name);
    return true;
  }

  /** One version as found (null: gone); true if that changed anything visible. */
  private applyVersion(name: string, model: TrackedModel, version: number, found: VersionEntry | null): boolean {
    const tracked = model.versions.get(version);
    if (!found) {
      if (!tracked) return false;
      model.versions.delete(version);
      this.touch(name, version);
      return true;
    }
    if (!tracked || tracked.sizeBytes !== found.sizeBytes || tracked.mtimeMs !== found.mtimeMs) {
      model.versions.set(version, {
        version,
        sizeBytes: found.sizeBytes,
        mtimeMs: found.mtimeMs,
        ready: found.ready,
        stableSince: this.now(),
        state: 'pending',
        reason: tracked ? 'file changed; waiting for it to settle' : 'waiting for the file to settle',
        sha256: null,
        signature: null,
        timings: null,
        batching: null,
      });
      this.touch(name, version);
      return true;
    }
    if (found.ready !== tracked.ready) tracked.ready = found.ready; // READY arrived: validated at the next look, not visible before
    return false;
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
    this.holdings.activated(model, version, loaded);
  }

  /** What the retention of each model's version policy retires now (see retention.ts). */
  retirements(): { model: string; versions: number[]; retain: number }[] {
    const due: { model: string; versions: number[]; retain: number }[] = [];
    for (const [name, model] of this.models) {
      const policy = parseModelConfig(withDefaults(this.settings.servingDefaults, model.config)).config?.versionPolicy;
      if (policy?.retain === undefined) continue; // no retention, or a config.json in error: nothing moves
      const kept = this.holdings.kept(name, policy.keepWarm);
      if (!kept) continue; // until the host says what the engine holds (after a start, an updater restart)
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
      variableSlotBytes: config.workers.variableSlotBytes,
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

  /** Read the model's config.json again (or its absence); true if what the host sees changed. */
  private async readConfig(name: string, exists: boolean, model: TrackedModel): Promise<boolean> {
    const read = await readModelConfig(this.settings.repository, name, exists);
    model.configStamp = read.stamp;
    const changed = JSON.stringify([read.config, read.configError]) !== JSON.stringify([model.config, model.configError]);
    model.config = read.config;
    model.configError = read.configError;
    return changed;
  }
}
