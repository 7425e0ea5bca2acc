/**
 * The updater's supervisor driven through its launcher seam with scripted processes and
 * fake timers: the restart backoff, the ready timeout, the heartbeat verdicts (degraded,
 * then killed) and the message checks, each asserted by the time it must happen at, with
 * no real process and no waiting.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EventLog } from '../../src-main/engine/events.js';
import type { UpdaterProcess } from '../../src-main/updater/launcher.js';
import { PROTOCOL_VERSION, SETTINGS_ENV } from '../../src-main/updater/protocol.js';
import { UpdaterSupervisor, type SupervisorOptions } from '../../src-main/updater/supervisor.js';

class ScriptedUpdater implements UpdaterProcess {
  readonly sent: unknown[] = [];
  killed = false;
  private messageHandler: ((message: unknown) => void) | undefined;
  private readonly exitHandlers: ((code: number | null) => void)[] = [];

  constructor(
    readonly pid: number,
    readonly env: Record<string, string>,
  ) {}

  send(message: unknown): void {
    this.sent.push(message);
  }
  onMessage(handler: (message: unknown) => void): void {
    this.messageHandler = handler;
  }
  onExit(handler: (code: number | null) => void): void {
    this.exitHandlers.push(handler);
  }
  kill(): void {
    this.killed = true;
    this.exit(null);
  }

  say(message: unknown): void {
    this.messageHandler?.(message);
  }
  ready(): void {
    this.say({ type: 'ready', pid: this.pid, protocol: PROTOCOL_VERSION });
  }
  beat(seq = 1, cpuMs = 0): void {
    this.say({ type: 'heartbeat', seq, sentAtMs: Date.now(), validating: false, cpuMs, rssBytes: 1 << 20 });
  }
  exit(code: number | null): void {
    for (const handler of this.exitHandlers.splice(0)) handler(code);
  }
}

let launched: ScriptedUpdater[];
let supervisor: UpdaterSupervisor;
let events: EventLog;

function start(options: Partial<SupervisorOptions> = {}): UpdaterSupervisor {
  events = new EventLog();
  supervisor = new UpdaterSupervisor(
    (env) => {
      const child = new ScriptedUpdater(100 + launched.length, env);
      launched.push(child);
      return child;
    },
    {
      settings: { repository: '/repo', heartbeatIntervalMs: 100 },
      backoffInitialMs: 50,
      backoffMaxMs: 300,
      readyTimeoutMs: 1000,
      ...options,
    },
    events,
  );
  supervisor.start();
  return supervisor;
}

const latest = (): ScriptedUpdater => launched.at(-1)!;
const restartDelays = () =>
  events
    .since(0)
    .filter((e) => e.kind === 'updater-restarting')
    .map((e) => Number(/restarting in (\d+) ms/.exec(e.message)![1]));

beforeEach(() => {
  vi.useFakeTimers();
  launched = [];
});
afterEach(async () => {
  const stopping = supervisor.stop(10);
  vi.advanceTimersByTime(10);
  await stopping;
  vi.useRealTimers();
});

describe('UpdaterSupervisor', () => {
  it('launches the updater with its settings and is ready on its ready message', async () => {
    start();
    expect(JSON.parse(latest().env[SETTINGS_ENV]!)).toMatchObject({ repository: '/repo', heartbeatIntervalMs: 100 });
    expect(supervisor.stats().state).toBe('starting');
    const ready = supervisor.whenReady();
    latest().ready();
    await ready;
    expect(supervisor.stats()).toMatchObject({ state: 'ready', pid: 100, restarts: 0 });
  });

  it('restarts a crashed updater after a backoff that doubles with each crash in a row up to its cap, and starts again from the first after a heartbeat', () => {
    start();
    const crashAndRelaunch = (backoff: number) => {
      const count = launched.length;
      latest().exit(1);
      expect(supervisor.stats().state).toBe('dead');
      vi.advanceTimersByTime(backoff - 1);
      expect(launched.length).toBe(count); // not a millisecond early
      vi.advanceTimersByTime(1);
      expect(launched.length).toBe(count + 1);
    };
    for (const backoff of [50, 100, 200, 300, 300]) crashAndRelaunch(backoff); // ready never came: every crash is in a row
    latest().ready();
    latest().beat(); // a healthy heartbeat ends the run of failures
    crashAndRelaunch(50);
    expect(restartDelays()).toEqual([50, 100, 200, 300, 300, 50]);
    expect(supervisor.stats()).toMatchObject({ restarts: 6, lastError: 'updater exited with code 1' });
  });

  it('kills an updater that never says ready within its timeout, counts it, and retries after the backoff', () => {
    start({ readyTimeoutMs: 400 });
    vi.advanceTimersByTime(399);
    expect(latest().killed).toBe(false);
    vi.advanceTimersByTime(1);
    expect(launched[0]!.killed).toBe(true);
    expect(supervisor.stats()).toMatchObject({ state: 'dead', readyTimeouts: 1, lastError: 'no ready message within 400 ms' });
    vi.advanceTimersByTime(50);
    expect(launched).toHaveLength(2);
    expect(supervisor.stats().state).toBe('starting');
  });

  it('calls a late updater degraded on its own, ready again at its next heartbeat, and kills it after the missed heartbeats', () => {
    start({ missedHeartbeats: 3 });
    latest().ready();
    // The watchdog looks every 100 ms: degraded once a heartbeat is more than 150 ms late.
    vi.advanceTimersByTime(100);
    expect(supervisor.stats().state).toBe('ready');
    vi.advanceTimersByTime(100);
    expect(supervisor.stats().state).toBe('degraded');
    expect(supervisor.ready).toBe(true); // degraded still serves messages
    expect(events.since(0).filter((e) => e.kind === 'updater-degraded')).toHaveLength(1);
    latest().beat();
    expect(supervisor.stats().state).toBe('ready');
    vi.advanceTimersByTime(300);
    expect(supervisor.stats().state).toBe('degraded');
    expect(latest().killed).toBe(false);
    vi.advanceTimersByTime(100); // 400 ms without a heartbeat: more than 3 intervals
    expect(launched[0]!.killed).toBe(true);
    expect(supervisor.stats()).toMatchObject({ state: 'dead', missedHeartbeatKills: 1 });
    expect(supervisor.stats().lastError).toMatch(/^no heartbeat for \d+ ms$/);
  });

  it('restarts at once when the operator asks, with no backoff', () => {
    start();
    latest().ready();
    supervisor.restart('operator');
    expect(launched[0]!.killed).toBe(true);
    vi.advanceTimersByTime(0);
    expect(launched).toHaveLength(2);
    expect(restartDelays()).toEqual([0]);
  });

  it('drops malformed messages and anything before ready, counting each, and passes the rest on', () => {
    start();
    const passed: unknown[] = [];
    supervisor.onMessage((m) => passed.push(m));
    latest().say({ type: 'repository', models: [] }); // before ready
    latest().say({ type: 'nonsense' });
    latest().say('not even an object');
    expect(supervisor.stats().invalidMessages).toBe(3);
    expect(supervisor.stats().state).toBe('starting');
    latest().ready();
    latest().say({ type: 'repository', models: [] });
    expect(passed).toEqual([{ type: 'repository', models: [] }]);
    expect(supervisor.send({ type: 'rescan', revalidate: false })).toBe(true);
    expect(latest().sent).toEqual([{ type: 'rescan', revalidate: false }]);
  });

  it('measures the CPU share from two heartbeats and forgets it with the process', () => {
    start();
    latest().ready();
    latest().beat(0, 0);
    expect(supervisor.stats().cpuPercent).toBeNull();
    for (let seq = 1; seq <= 10; seq++) {
      vi.advanceTimersByTime(100);
      latest().beat(seq, 25 * seq); // a quarter of a core
    }
    expect(supervisor.stats().cpuPercent).toBe(25);
    latest().exit(1);
    expect(supervisor.stats()).toMatchObject({ cpuPercent: null, rssBytes: null, pid: null });
  });

  it('asks the updater to shut down on stop, and kills it after the grace period', async () => {
    start();
    latest().ready();
    const child = latest();
    const stopped = supervisor.stop(500);
    expect(child.sent).toEqual([{ type: 'shutdown' }]);
    vi.advanceTimersByTime(499);
    expect(child.killed).toBe(false);
    vi.advanceTimersByTime(1);
    await stopped;
    expect(child.killed).toBe(true);
    expect(supervisor.stats().state).toBe('stopped');
    vi.advanceTimersByTime(10_000);
    expect(launched).toHaveLength(1); // stopped means no restart
  });
});
