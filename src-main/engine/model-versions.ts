/**
 * The versions of one model and how they change: which is active, warm or draining (the
 * VersionTable), the swaps that move between them, one at a time, and their history. A
 * swap loads the new version beside the active one (the pool creates its sessions one
 * worker at a time, so the rest keep serving), then activates it between batches; any
 * failure leaves the active version serving.
 */
import type { ProbeEvidence } from './signature.js';
import { createHash } from 'node:crypto';
import { ChecksumMismatchError, ConfigError, ShuttingDownError, VersionUnavailableError, asError } from './errors.js';
import type { EventLog } from './events.js';
import type { SwapKind, SwapRecord, VersionSnapshot } from './snapshot.js';
import { VersionTable } from './version-table.js';
import type { InflightBatch, ServedVersion, WorkerPool } from './worker-pool.js';

export interface SwapOptions {
  readonly version: number;
  readonly bytes: Uint8Array;
  /** The sha256 the updater validated; the bytes are re-hashed and must match. */
  readonly expectedSha256?: string;
  /** Accept a signature that differs from the active one. */
  readonly force?: boolean;
  /** The batching probe's evidence from validation (the updater), so the engine need not probe again. */
  readonly evidence?: ProbeEvidence | null;
  readonly kind?: SwapKind;
}

const SWAP_HISTORY = 100;

export function sha256Of(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export class ModelVersions<B extends InflightBatch> {
  readonly table: VersionTable;
  private readonly swapHistory: SwapRecord[] = [];
  private swapChain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly name: string,
    private readonly pool: WorkerPool<B>,
    private readonly events: EventLog,
    /** Called once a version is active: batches may go to it now. */
    private readonly activated: () => void,
  ) {
    this.table = new VersionTable(name);
  }

  get active(): ServedVersion {
    return this.table.active;
  }

  /**
   * The version a request asked for by number: the active one or one kept warm. A draining
   * version only finishes what it owes, and one not loaded cannot run anything.
   */
  servable(version: number | undefined): ServedVersion {
    const active = this.table.active;
    if (version === undefined || version === active.version) return active;
    if (!this.table.isKept(version)) {
      const loaded = this.pool.versions().some((v) => v.version === version);
      throw new VersionUnavailableError(
        this.name,
        version,
        loaded ? 'is draining: it is no longer served' : `is not loaded (version ${active.version} is active)`,
      );
    }
    return this.pool.served(version);
  }

  /** Swaps run one at a time, in the order asked. */
  swap(options: SwapOptions, keepWarm: number, runnerState: string): Promise<SwapRecord> {
    const run = this.swapChain.then(() => this.swapNow(options, keepWarm, runnerState));
    this.swapChain = run.catch(() => undefined);
    return run;
  }

  snapshot(): VersionSnapshot[] {
    return this.pool
      .versions()
      .sort((a, b) => b.version - a.version)
      .map((v) => ({
        version: v.version,
        state: this.table.role(v.version),
        sha256: v.sha256,
        sizeBytes: v.bytes.byteLength,
        loadedAtMs: v.loadedAtMs,
        loadMs: v.loadMs,
        pendingRequests: this.table.pending(v.version),
      }));
  }

  history(): SwapRecord[] {
    return [...this.swapHistory];
  }

  recentHistory(count: number): SwapRecord[] {
    return this.swapHistory.slice(-count);
  }

  /** A request for `version` settled: release the version when it was the last one owed and it is not kept. */
  settled(version: number, running: boolean): void {
    if (this.table.unref(version) && running) this.pool.release(version);
  }

  private async swapNow(options: SwapOptions, keepWarm: number, runnerState: string): Promise<SwapRecord> {
    const startedAtMs = Date.now();
    const started = performance.now();
    const from = this.active.version;
    const kind = options.kind ?? 'activate';
    const record = (ok: boolean, loadMs: number, error: string | null): SwapRecord => {
      const entry: SwapRecord = { from, to: options.version, kind, startedAtMs, loadMs, totalMs: performance.now() - started, ok, error };
      this.swapHistory.push(entry);
      if (this.swapHistory.length > SWAP_HISTORY) this.swapHistory.shift();
      return entry;
    };
    try {
      if (runnerState !== 'running') throw new ShuttingDownError(`model "${this.name}" is ${runnerState}`);
      const warm = this.pool.has(options.version);
      if (kind === 'reload' && options.version === from) {
        throw new ConfigError(
          `model "${this.name}": reload the active version by publishing it as a new version, or activate another first`,
        );
      }
      const served = await this.load(options, warm, kind);
      const before = this.active.plan.decision;
      this.table.activate(served, keepWarm);
      const after = served.plan.decision;
      if (after.batched !== before.batched) {
        this.events.emit(
          'warn',
          'batching-changed',
          `model "${this.name}": version ${options.version} is ${after.batched ? 'batched' : 'served one request per run'}, version ${from} was ${before.batched ? 'batched' : 'not batched'}: ${after.reason}`,
          { model: this.name },
        );
      }
      const entry = record(true, warm ? 0 : served.loadMs, null);
      this.events.emit(
        'info',
        'model-swapped',
        `model "${this.name}": version ${from} -> ${options.version} (${kind}, ${entry.totalMs.toFixed(1)} ms)`,
        {
          model: this.name,
        },
      );
      for (const version of this.table.releasable(this.pool.versions().map((v) => v.version))) this.pool.release(version);
      this.activated();
      return entry;
    } catch (error) {
      const message = asError(error).message;
      record(false, 0, message);
      this.events.emit(
        'error',
        'swap-failed',
        `model "${this.name}": swap to version ${options.version} failed, version ${from} keeps serving: ${message}`,
        {
          model: this.name,
        },
      );
      throw error;
    }
  }

  /** The version loaded and checked: warm already, or loaded now beside the active one. */
  private async load(options: SwapOptions, warm: boolean, kind: SwapKind): Promise<ServedVersion> {
    let served = warm ? this.pool.served(options.version) : undefined;
    // Reloading, or the same version number with a different file: the loaded copy is stale.
    if (served && (kind === 'reload' || (options.expectedSha256 !== undefined && served.sha256 !== options.expectedSha256))) {
      if (this.table.pending(options.version) > 0) {
        throw new ConfigError(`model "${this.name}" version ${options.version} is still answering requests; try again once it has drained`);
      }
      this.pool.release(options.version);
      served = undefined;
    }
    if (served) return served;
    const sha256 = sha256Of(options.bytes);
    if (options.expectedSha256 !== undefined && options.expectedSha256 !== sha256)
      throw new ChecksumMismatchError(options.expectedSha256, sha256);
    return this.pool.introduce(options.version, options.bytes, sha256, {
      compareWith: this.active.signature,
      force: options.force ?? false,
      evidence: options.evidence ?? undefined,
    });
  }
}
