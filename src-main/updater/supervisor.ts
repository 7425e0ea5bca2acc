/**
 * Keeps the updater process alive and honest: waits for its typed "ready" message with
 * a timeout (killing and retrying on timeout), watches its heartbeats (degraded when
 * late, killed and restarted after `missedHeartbeats`), restarts it after a crash with
 * capped exponential backoff, and validates every message it sends.
 */
import type { EventLog } from '../engine/events.js';
import { CpuShare } from '../util/cpu-share.js';
import { settlesWithin } from '../util/timeout.js';
import type { UpdaterLauncher, UpdaterProcess } from './launcher.js';
import { checkToHost } from './message-check.js';
import { SETTINGS_ENV, ToUpdaterSchema, type ToHost, type ToUpdater, type UpdaterSettingsInput } from './protocol.js';

export type UpdaterState = 'starting' | 'ready' | 'degraded' | 'dead' | 'stopped';

export interface SupervisorOptions {
  readonly settings: UpdaterSettingsInput;
  readonly readyTimeoutMs?: number;
  readonly heartbeatIntervalMs?: number;
  readonly missedHeartbeats?: number;
  readonly backoffInitialMs?: number;
  readonly backoffMaxMs?: number;
}

export interface UpdaterStats {
  state: UpdaterState;
  pid: number | null;
  restarts: number;
  readyTimeouts: number;
  missedHeartbeatKills: number;
  invalidMessages: number;
  lastHeartbeatAgeMs: number | null;
  uptimeMs: number;
  validating: boolean;
  lastError: string | null;
  /** Percent of one core over the last second or more, from its heartbeats; null until two have come. */
  cpuPercent: number | null;
  /** Resident memory at its last heartbeat. */
  rssBytes: number | null;
}

type Listener = (message: Exclude<ToHost, { type: 'ready' } | { type: 'heartbeat' }>) => void;

export class UpdaterSupervisor {
  private child: UpdaterProcess | undefined;
  private state: UpdaterState = 'stopped';
  private readonly listeners = new Set<Listener>();
  private readonly readyWaiters: (() => void)[] = [];
  private readonly readyListeners = new Set<() => void>();
  private readyTimer: NodeJS.Timeout | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  private lastHeartbeatAt = 0;
  private startedAt = 0;
  private consecutiveFailures = 0;
  private validating = false;
  private lastError: string | null = null;
  private readonly cpu = new CpuShare();
  private rssBytes: number | null = null;
  private readonly counters = { restarts: 0, readyTimeouts: 0, missedHeartbeatKills: 0, invalidMessages: 0 };
  private readonly readyTimeoutMs: number;
  private readonly heartbeatIntervalMs: number;
  private readonly missedHeartbeats: number;
  private readonly backoffInitialMs: number;
  private readonly backoffMaxMs: number;

  constructor(
    private readonly launch: UpdaterLauncher,
    private readonly options: SupervisorOptions,
    private readonly events: EventLog,
  ) {
    this.readyTimeoutMs = options.readyTimeoutMs ?? 10_000;
    this.heartbeatIntervalMs = options.heartbeatIntervalMs ?? options.settings.heartbeatIntervalMs ?? 1000;
    this.missedHeartbeats = options.missedHeartbeats ?? 3;
    this.backoffInitialMs = options.backoffInitialMs ?? 500;
    this.backoffMaxMs = options.backoffMaxMs ?? 30_000;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get ready(): boolean {
    return this.state === 'ready' || this.state === 'degraded';
  }

  start(): void {
    if (this.state !== 'stopped') return;
    this.spawn();
    this.watchdog = setInterval(() => this.checkHeartbeat(), this.heartbeatIntervalMs);
  }

  /** Resolves when the updater is (next) ready. */
  whenReady(): Promise<void> {
    if (this.ready) return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  /** Called each time an updater process becomes ready (after every restart too). */
  onReady(listener: () => void): () => void {
    this.readyListeners.add(listener);
    return () => this.readyListeners.delete(listener);
  }

  onMessage(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Send a message; dropped (and logged) when the updater is not ready, since it re-reads state on restart. */
  send(message: ToUpdater): boolean {
    ToUpdaterSchema.parse(message); // our own bug if this throws
    if (!this.ready || !this.child) return false;
    this.child.send(message);
    return true;
  }

  /** Operator action: kill the updater and start a new one now. */
  restart(reason = 'restart requested'): void {
    if (this.state === 'stopped') return;
    this.fail(reason, false);
  }

  stats(): UpdaterStats {
    return {
      state: this.state,
      pid: this.child?.pid ?? null,
      ...this.counters,
      lastHeartbeatAgeMs: this.lastHeartbeatAt > 0 ? Date.now() - this.lastHeartbeatAt : null,
      uptimeMs: this.startedAt > 0 && this.child ? Date.now() - this.startedAt : 0,
      validating: this.validating,
      lastError: this.lastError,
      cpuPercent: this.child ? this.cpu.share : null,
      rssBytes: this.child ? this.rssBytes : null,
    };
  }

  async stop(graceMs = 2000): Promise<void> {
    this.state = 'stopped';
    clearInterval(this.watchdog);
    clearTimeout(this.readyTimer);
    clearTimeout(this.restartTimer);
    const child = this.child;
    this.child = undefined;
    if (!child) return;
    const exited = new Promise<void>((resolve) => child.onExit(() => resolve()));
    child.send({ type: 'shutdown' } satisfies ToUpdater);
    if (!(await settlesWithin(exited, graceMs))) {
      child.kill();
      await exited;
    }
  }

  private spawn(): void {
    this.state = 'starting';
    this.lastHeartbeatAt = 0;
    this.validating = false;
    this.startedAt = Date.now();
    const child = this.launch({ [SETTINGS_ENV]: JSON.stringify(this.options.settings) });
    this.child = child;
    this.cpu.reset(); // a new process: its CPU time starts again from zero
    this.rssBytes = null;
    child.onMessage((raw) => {
      if (this.child === child) this.receive(raw);
    });
    child.onExit((code) => {
      if (this.child !== child || this.state === 'stopped') return;
      this.child = undefined;
      this.fail(`updater exited with code ${code}`, true);
    });
    this.readyTimer = setTimeout(() => {
      this.counters.readyTimeouts++;
      this.fail(`no ready message within ${this.readyTimeoutMs} ms`, true);
    }, this.readyTimeoutMs);
  }

  private receive(raw: unknown): void {
    // Field by field: what is wrong in one model or version marks it, the rest of the message applies.
    const checked = checkToHost(raw);
    if (!checked.ok) {
      this.counters.invalidMessages++;
      this.events.emit('warn', 'updater-invalid-message', `invalid message from the updater dropped: ${checked.error}`);
      return;
    }
    if (checked.repairs.length > 0) {
      this.counters.invalidMessages++;
      for (const repair of checked.repairs.slice(0, 20)) this.events.emit('warn', 'updater-invalid-message', `from the updater: ${repair}`);
    }
    const message = checked.message;
    if (message.type === 'ready') {
      clearTimeout(this.readyTimer);
      this.state = 'ready';
      this.lastHeartbeatAt = Date.now();
      this.lastError = null;
      this.events.emit('info', 'updater-ready', `updater ready (pid ${message.pid})`);
      for (const resolve of this.readyWaiters.splice(0)) resolve();
      for (const listener of this.readyListeners) listener();
      return;
    }
    if (this.state === 'starting') {
      this.counters.invalidMessages++;
      this.events.emit('warn', 'updater-invalid-message', `updater sent "${message.type}" before "ready"; dropped`);
      return;
    }
    if (message.type === 'heartbeat') {
      this.lastHeartbeatAt = Date.now();
      this.validating = message.validating;
      this.cpu.update(message.cpuMs, message.sentAtMs);
      this.rssBytes = message.rssBytes;
      if (this.state === 'degraded') this.state = 'ready';
      this.consecutiveFailures = 0;
      return;
    }
    if (message.type === 'log') {
      this.events.emit(message.level, 'updater-log', `updater: ${message.message}`);
      return;
    }
    for (const listener of this.listeners) listener(message);
  }

  private checkHeartbeat(): void {
    if (!this.ready || this.lastHeartbeatAt === 0) return;
    const age = Date.now() - this.lastHeartbeatAt;
    if (age > this.heartbeatIntervalMs * this.missedHeartbeats) {
      this.counters.missedHeartbeatKills++;
      this.fail(`no heartbeat for ${age} ms`, true);
    } else if (age > this.heartbeatIntervalMs * 1.5 && this.state === 'ready') {
      this.state = 'degraded';
      this.events.emit('warn', 'updater-degraded', `updater heartbeat late (${age} ms)`);
    }
  }

  /** Kill the current process (if any) and start another after a backoff. */
  private fail(reason: string, backoff: boolean): void {
    clearTimeout(this.readyTimer);
    const child = this.child;
    this.child = undefined;
    child?.kill();
    this.lastError = reason;
    this.state = 'dead';
    const delay = backoff ? Math.min(this.backoffMaxMs, this.backoffInitialMs * 2 ** this.consecutiveFailures) : 0;
    this.consecutiveFailures++;
    this.events.emit('error', 'updater-restarting', `updater: ${reason}; restarting in ${delay} ms`);
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => {
      if (this.state !== 'dead') return;
      this.counters.restarts++;
      this.spawn();
    }, delay);
  }
}
