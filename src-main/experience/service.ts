/**
 * The experience buffer as the host runs it: one buffer and its replay table, restored
 * from the last complete checkpoint on start and checkpointed on a schedule, on demand
 * and on stop; a consumer that samples batches under the table's rate limiter and feeds
 * priorities back; the sampler reconfigurable and the table clearable while actors
 * write; and the statistics the dashboard's Experience page shows.
 */
import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import { EngineError, RateLimitedError, ShuttingDownError, asError } from '../engine/errors.js';
import type { EventLog } from '../engine/events.js';
import { LatencyHistogram } from '../engine/stats/histogram.js';
import { WindowedCounter } from '../engine/stats/window.js';
import { columnBytes, ExperienceBuffer, type FieldSpec } from './buffer.js';
import { bufferToNpz, type ExportSelection } from './export.js';
import { ExportFolder } from './export-folder.js';
import { policyLagBuckets, priorityBuckets } from './distributions.js';

export type { ExportSelection } from './export.js';
import { CHECKPOINT_FILE, CorruptCheckpointError, restoreCheckpoint, writeCheckpoint, type CheckpointInfo } from './checkpoint.js';
import { ExperienceTable, type SampleBatch } from './table.js';
import { DEFAULT_SAMPLER, type CheckpointStatus, type ExperienceSnapshot, type SamplerSettings } from './snapshot.js';
import { count } from '../../src-preload/format.js';

export { DEFAULT_SAMPLER } from './snapshot.js';
export type { CheckpointStatus, ExperienceSnapshot, SamplerSettings } from './snapshot.js';

export interface ExperienceServiceOptions {
  readonly capacity: number;
  readonly fields: readonly FieldSpec[];
  /** Where checkpoints go and are restored from; none when absent. */
  readonly checkpointDir?: string;
  /** Between scheduled checkpoints (0: only on demand and on stop). */
  readonly checkpointIntervalMs?: number;
  readonly sampler?: Partial<SamplerSettings>;
  /** Where exports are written (default: `exports` beside the checkpoints, else a private temporary folder); see ExportFolder. */
  readonly exportDir?: string;
  readonly events?: EventLog;
}

/** Consumes one sampled batch; returns new priorities for its items, or nothing. */
export type BatchConsumer = (batch: SampleBatch) => Promise<ArrayLike<number> | undefined>;

const SAMPLE_WAIT_TIMEOUT_MS = 2000;
const LAG_WINDOW = 4096;
const PRIORITY_SAMPLE = 4096;

export class ExperienceService {
  private tableValue: ExperienceTable;
  private settingsValue: SamplerSettings;
  private readonly inserts = new WindowedCounter(10);
  private readonly samples = new WindowedCounter(10);
  private readonly sampleWaits = new LatencyHistogram(60);
  private sampleTimeouts = 0;
  private lastCommitted: number;
  private checkpointTimer: NodeJS.Timeout | undefined;
  private insertTicker: NodeJS.Timeout | undefined;
  private checkpointing: Promise<CheckpointInfo> | undefined;
  private readonly checkpoint: CheckpointStatus;
  private readonly consumerStats = { batches: 0, errors: 0, lastError: null as string | null };
  private consuming: Promise<void> | undefined;
  private running = false;
  private readonly stopping = new AbortController();
  private readonly exports: ExportFolder;
  private insertWaitSource: () => { waits: number; totalMs: number; timeouts: number } = () => ({ waits: 0, totalMs: 0, timeouts: 0 });

  private constructor(
    readonly buffer: ExperienceBuffer,
    private readonly options: ExperienceServiceOptions,
    restored: { atMs: number; items: number } | null,
  ) {
    // The defaults fit any buffer; settings given explicitly are checked as given.
    const fitted = {
      batchSize: Math.min(DEFAULT_SAMPLER.batchSize, buffer.capacity),
      minSize: Math.min(DEFAULT_SAMPLER.minSize, buffer.capacity),
    };
    this.settingsValue = { ...DEFAULT_SAMPLER, ...fitted, ...options.sampler };
    this.tableValue = this.makeTable(this.settingsValue);
    this.exports = new ExportFolder(options.exportDir ?? (options.checkpointDir ? join(options.checkpointDir, 'exports') : undefined));
    this.lastCommitted = buffer.counts().committed;
    this.checkpoint = {
      dir: options.checkpointDir ?? null,
      intervalMs: options.checkpointIntervalMs ?? 60_000,
      inProgress: false,
      last: null,
      nextAtMs: null,
      error: null,
      restored,
    };
  }

  /**
   * The buffer from the last complete checkpoint in `checkpointDir` when there is one
   * with the same layout; otherwise an empty one. A corrupt checkpoint is moved aside
   * (kept for inspection, never half-loaded) and reported.
   */
  static async open(options: ExperienceServiceOptions): Promise<ExperienceService> {
    let restored: ExperienceBuffer | undefined;
    if (options.checkpointDir) {
      try {
        restored = await restoreCheckpoint(options.checkpointDir);
      } catch (error) {
        if (!(error instanceof CorruptCheckpointError)) throw error;
        const aside = await moveAside(options.checkpointDir, 'corrupt');
        options.events?.emit('warn', 'experience', `experience checkpoint refused (${error.message}); moved to ${aside}, starting empty`);
      }
      if (restored && !sameLayout(restored, options)) {
        // Kept, not overwritten by the next checkpoint: it may be what the operator wanted.
        const aside = await moveAside(options.checkpointDir, 'incompatible');
        options.events?.emit(
          'warn',
          'experience',
          `experience checkpoint has another capacity or fields than configured; moved to ${aside}, starting empty`,
        );
        restored = undefined;
      }
    }
    const buffer = restored ?? ExperienceBuffer.create(options.capacity, options.fields);
    const service = new ExperienceService(buffer, options, null);
    if (restored) {
      service.table.pull();
      const items = service.table.size;
      service.checkpoint.restored = { atMs: Date.now(), items };
      options.events?.emit('info', 'experience', `experience buffer restored from checkpoint: ${count(items)} items`);
    }
    return service;
  }

  get table(): ExperienceTable {
    return this.tableValue;
  }

  get settings(): SamplerSettings {
    return this.settingsValue;
  }

  /** Where actor threads' insert waits are counted (they wait in their own threads). */
  countInsertWaitsFrom(source: () => { waits: number; totalMs: number; timeouts: number }): void {
    this.insertWaitSource = source;
  }

  /** Start scheduled checkpoints and, when given, a consumer sampling batches as the rate limiter allows. */
  start(consumer?: BatchConsumer): void {
    if (this.running) return;
    this.running = true;
    // Actor threads commit without telling anyone: count their inserts a few times a second for the rate.
    this.insertTicker = setInterval(() => this.countInserts(), 250);
    this.scheduleCheckpoint();
    if (consumer) this.consuming = this.consume(consumer);
  }

  /**
   * New sampler settings. The table is rebuilt over the same buffer (nothing is lost;
   * items start again at the new sampler's initial priority).
   */
  configure(settings: Partial<SamplerSettings>): SamplerSettings {
    const next = { ...this.settingsValue, ...settings };
    const table = this.makeTable(next); // checks the settings before anything changes
    this.settingsValue = next;
    this.tableValue = table;
    this.options.events?.emit('info', 'experience', `experience sampler: ${describe(next)}`);
    return next;
  }

  /** Remove every item (actors keep writing; new items are taken in from now). */
  clear(): { removed: number } {
    const removed = this.table.size;
    this.table.clear();
    this.options.events?.emit('warn', 'experience', `experience buffer cleared by the operator: ${count(removed)} items removed`);
    return { removed };
  }

  /** Write a checkpoint now (one at a time: a call during one waits for it). */
  async checkpointNow(): Promise<CheckpointInfo> {
    const dir = this.options.checkpointDir;
    if (!dir) throw new ExperienceError('NO_CHECKPOINT_DIR', 'checkpoints are off: no checkpoint directory is configured');
    if (this.checkpointing) return this.checkpointing;
    this.checkpoint.inProgress = true;
    const items = this.table.size;
    this.checkpointing = writeCheckpoint(dir, this.buffer)
      .then(
        (info) => {
          this.checkpoint.last = { bytes: info.bytes, copyMs: info.copyMs, writeMs: info.writeMs, atMs: Date.now(), items };
          this.checkpoint.error = null;
          return info;
        },
        (error: unknown) => {
          this.checkpoint.error = asError(error).message;
          this.options.events?.emit('error', 'experience', `experience checkpoint failed: ${this.checkpoint.error}`);
          throw error;
        },
      )
      .finally(() => {
        this.checkpoint.inProgress = false;
        this.checkpointing = undefined;
      });
    return this.checkpointing;
  }

  /** The items held as .npz (see bufferToNpz); the table's counts, limiter and removal rules are not touched. */
  exportNpz(which: ExportSelection = { kind: 'all' }): { bytes: Uint8Array; items: number } {
    return bufferToNpz(this.buffer, which);
  }

  /** Write an export into the export folder (the one place exports go); the name is made here, never taken from the caller. */
  async exportToFile(which: ExportSelection): Promise<{ path: string; items: number; bytes: number }> {
    const { bytes, items } = this.exportNpz(which);
    const stamp = new Date()
      .toISOString()
      .replaceAll(':', '')
      .replace(/\.\d+Z$/, 'Z');
    const name = `experience-${stamp}-${which.kind}${which.kind === 'all' ? '' : `-${which.items}`}.npz`;
    return { path: await this.exports.write(name, bytes), items, bytes: bytes.byteLength };
  }

  checkpointStatus(): CheckpointStatus {
    return { ...this.checkpoint, last: this.checkpoint.last && { ...this.checkpoint.last } };
  }

  snapshot(activeVersion: number | null): ExperienceSnapshot {
    this.table.pull();
    this.countInserts();
    const counts = this.buffer.counts();
    const stats = this.table.stats();
    const limiter = this.table.limiterState(this.settingsValue.batchSize);
    return {
      capacity: this.buffer.capacity,
      size: stats.size,
      bytes: this.buffer.byteLength,
      fields: this.buffer.fields.map((f) => ({ ...f, shape: [...f.shape], bytes: columnBytes(f, this.buffer.capacity) })),
      inserted: counts.committed,
      sampled: this.samples.total,
      dropped: counts.dropped,
      insertsPerSecond: this.inserts.ratePerSecond(),
      samplesPerSecond: this.samples.ratePerSecond(),
      staleUpdates: stats.staleUpdates,
      tornReads: stats.tornReads,
      removedBySampling: stats.removedBySampling,
      settings: this.settingsValue,
      limiter: {
        spec: limiter.spec,
        holding: !limiter.canInsert ? 'inserts' : limiter.waiting > 0 && !limiter.canSample ? 'samples' : 'nothing',
        sampleWaitMs: this.sampleWaits.window(),
        sampleTimeouts: this.sampleTimeouts,
        insertWaits: this.insertWaitSource(),
      },
      priorities: priorityBuckets(this.table.priorities(PRIORITY_SAMPLE)),
      policyLag: activeVersion === null ? null : policyLagBuckets(this.buffer, activeVersion, LAG_WINDOW),
      checkpoint: this.checkpointStatus(),
      consumer: { ...this.consumerStats },
    };
  }

  /**
   * End the consumer, and with it the rate limiter's hold on writers: nobody samples any
   * more, so writers must not wait for samples (actor threads would block while stopping).
   */
  async stopSampling(): Promise<void> {
    this.stopping.abort();
    await this.consuming;
    this.table.releaseWriters();
  }

  /** Stop sampling and scheduled checkpoints; write a last checkpoint so the next start resumes. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    clearTimeout(this.checkpointTimer);
    clearInterval(this.insertTicker);
    await this.stopSampling();
    await this.checkpointing?.catch(() => undefined);
    if (this.options.checkpointDir) await this.checkpointNow();
  }

  private countInserts(): void {
    const { committed } = this.buffer.counts();
    this.inserts.add(committed - this.lastCommitted);
    this.lastCommitted = committed;
  }

  private makeTable(settings: SamplerSettings): ExperienceTable {
    const invalid = (message: string) => new ExperienceError('INVALID_SETTINGS', message);
    if (settings.minSize > this.buffer.capacity)
      throw invalid(`minSize ${settings.minSize} exceeds the buffer's capacity ${this.buffer.capacity}: sampling would never start`);
    if (settings.batchSize > this.buffer.capacity)
      throw invalid(`batchSize ${settings.batchSize} exceeds the buffer's capacity ${this.buffer.capacity}`);
    if (!(settings.samplesPerInsert > 0)) throw invalid(`samplesPerInsert must be > 0, got ${settings.samplesPerInsert}`);
    return new ExperienceTable(this.buffer, {
      sampler: settings.sampler,
      alpha: settings.alpha,
      beta: settings.beta,
      maxTimesSampled: settings.maxTimesSampled,
      rateLimiter: {
        kind: 'sampleToInsertRatio',
        samplesPerInsert: settings.samplesPerInsert,
        minSize: settings.minSize,
        // Room for a few batches either way, so neither side stalls on every call.
        errorBuffer: Math.max(4 * settings.batchSize, settings.samplesPerInsert * settings.batchSize * 4),
      },
    });
  }

  private scheduleCheckpoint(): void {
    const interval = this.checkpoint.intervalMs;
    if (!this.options.checkpointDir || interval <= 0 || !this.running) return;
    this.checkpoint.nextAtMs = Date.now() + interval;
    this.checkpointTimer = setTimeout(() => {
      this.checkpointNow()
        .catch(() => undefined) // recorded in the status and the event log by checkpointNow
        .finally(() => this.scheduleCheckpoint());
    }, interval);
  }

  private async consume(consumer: BatchConsumer): Promise<void> {
    while (this.running) {
      const table = this.table;
      const started = performance.now();
      let batch: SampleBatch;
      try {
        batch = await table.sample(this.settingsValue.batchSize, SAMPLE_WAIT_TIMEOUT_MS, this.stopping.signal);
      } catch (error) {
        if (error instanceof ShuttingDownError) return;
        if (!(error instanceof RateLimitedError)) {
          // Not a wait that ran out: a fault in the table. Stop consuming, and say so where the operator looks.
          this.consumerStats.errors++;
          this.consumerStats.lastError = asError(error).message;
          this.options.events?.emit('error', 'experience', `experience sampling stopped: ${this.consumerStats.lastError}`);
          return;
        }
        this.sampleTimeouts++;
        continue; // nothing to sample yet (actors paused or the table below its minimum): wait again
      }
      this.sampleWaits.record(performance.now() - started);
      this.samples.add(batch.slots.length);
      try {
        const priorities = await consumer(batch);
        if (priorities && table === this.table) table.updatePriorities(batch.slots, batch.generations, priorities);
        this.consumerStats.batches++;
      } catch (error) {
        if (error instanceof ShuttingDownError) return;
        this.consumerStats.errors++;
        this.consumerStats.lastError = asError(error).message;
      }
    }
  }
}

/** An experience command that cannot be carried out (no buffer, checkpoints off, invalid settings). */
export class ExperienceError extends EngineError {
  constructor(
    readonly code: 'NO_EXPERIENCE_BUFFER' | 'NO_CHECKPOINT_DIR' | 'INVALID_SETTINGS',
    message: string,
  ) {
    super(message);
  }
}

/** Keep a checkpoint that will not be loaded out of the way of the next one; returns where it went. */
async function moveAside(dir: string, why: 'corrupt' | 'incompatible'): Promise<string> {
  const aside = join(dir, `${CHECKPOINT_FILE}.${why}-${Date.now()}`);
  await rename(join(dir, CHECKPOINT_FILE), aside);
  return aside;
}

function sameLayout(buffer: ExperienceBuffer, options: ExperienceServiceOptions): boolean {
  return buffer.capacity === options.capacity && JSON.stringify(buffer.fields) === JSON.stringify(options.fields);
}

function describe(s: SamplerSettings): string {
  const prioritized = s.sampler === 'prioritized' ? ` alpha ${s.alpha} beta ${s.beta}` : '';
  return `${s.sampler}${prioritized}, batch ${s.batchSize}, ${s.samplesPerInsert} samples per insert, min size ${s.minSize}`;
}
