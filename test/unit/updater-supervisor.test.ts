/**
 * The updater's supervisor driven through its launcher seam with scripted processes and
 * fake timers: the restart backoff, the ready timeout, the heartbeat verdicts (degraded,
 * then killed) and the message checks, each asserted by the time it must happen at, with
 * no real process and no waiting.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EventLog } from '../../src-main/engine/events.js';
import type { UpdaterProcess } from '../../src-main/updater/launcher.js';
import { LIMITS, PROTOCOL_VERSION, SETTINGS_ENV } from '../../src-main/updater/protocol.js';
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

  it('is stopped, with nothing to report, before it starts', () => {
    supervisor = new UpdaterSupervisor(() => new ScriptedUpdater(1, {}), { settings: { repository: '/repo' } }, new EventLog());
    expect(supervisor.stats()).toMatchObject({ state: 'stopped', pid: null, validating: false, uptimeMs: 0, lastHeartbeatAgeMs: null });
  });

  it('starts once, waits for ready before it resolves whenReady or sends, and resolves at once when ready', async () => {
    start();
    supervisor.start(); // already running: no second process
    expect(launched).toHaveLength(1);
    let resolved = false;
    void supervisor.whenReady().then(() => (resolved = true));
    await Promise.resolve();
    expect(resolved).toBe(false);
    expect(supervisor.ready).toBe(false);
    expect(supervisor.send({ type: 'rescan', revalidate: false })).toBe(false); // nobody to take it yet
    expect(latest().sent).toEqual([]);
    latest().ready();
    await Promise.resolve();
    expect(resolved).toBe(true);
    let again = false;
    void supervisor.whenReady().then(() => (again = true));
    await Promise.resolve();
    expect(again).toBe(true);
    expect(events.since(0).find((e) => e.kind === 'updater-ready')!.message).toBe('updater ready (pid 100)');
  });

  it('reports the heartbeat age, the uptime and whether it validates, by the clock, and forgets them with the process', () => {
    start();
    expect(supervisor.stats()).toMatchObject({ lastHeartbeatAgeMs: null, uptimeMs: 0, validating: false });
    vi.advanceTimersByTime(30);
    latest().ready();
    latest().say({ type: 'heartbeat', seq: 1, sentAtMs: Date.now(), validating: true, cpuMs: 0, rssBytes: 1 });
    vi.advanceTimersByTime(40);
    expect(supervisor.stats()).toMatchObject({ lastHeartbeatAgeMs: 40, uptimeMs: 70, validating: true, rssBytes: 1 });
    latest().exit(1);
    expect(supervisor.stats().uptimeMs).toBe(0);
    vi.advanceTimersByTime(50);
    expect(supervisor.stats()).toMatchObject({ lastHeartbeatAgeMs: null, validating: false, state: 'starting' });
  });

  it('lets listeners go when they unsubscribe', () => {
    start();
    const messages: unknown[] = [];
    let readies = 0;
    const offMessage = supervisor.onMessage((m) => messages.push(m));
    const offReady = supervisor.onReady(() => readies++);
    latest().ready();
    latest().say({ type: 'repository', models: [] });
    offMessage();
    offReady();
    latest().say({ type: 'repository', models: [] });
    supervisor.restart();
    vi.advanceTimersByTime(0);
    latest().ready();
    expect(messages).toHaveLength(1);
    expect(readies).toBe(1);
  });

  it('ignores what a replaced process still says', () => {
    start();
    const old = latest();
    old.ready();
    supervisor.restart();
    vi.advanceTimersByTime(0);
    expect(launched).toHaveLength(2);
    old.ready(); // the old process, late
    expect(supervisor.stats().state).toBe('starting');
    old.exit(1);
    expect(supervisor.stats()).toMatchObject({ state: 'starting', restarts: 1 });
  });

  it('passes a message on with what it had to repair, counting it and saying what', () => {
    start();
    latest().ready();
    const passed: unknown[] = [];
    supervisor.onMessage((m) => passed.push(m));
    const name = 'n'.repeat(LIMITS.tensorName + 1);
    latest().say({
      type: 'version',
      model: 'm',
      version: {
        version: 7,
        state: 'valid',
        reason: null,
        sha256: 'a'.repeat(64),
        sizeBytes: 1,
        mtimeMs: 1,
        signature: { inputs: [{ name, dtype: 'float32', shape: [1] }], outputs: [] },
        timings: null,
        batching: null,
      },
    });
    expect(passed).toMatchObject([{ type: 'version', model: 'm', version: { version: 7, state: 'invalid' } }]);
    expect(supervisor.stats().invalidMessages).toBe(1);
    expect(
      events
        .since(0)
        .filter((e) => e.kind === 'updater-invalid-message')
        .map((e) => e.message),
    ).toEqual([expect.stringMatching(/^from the updater: model "m" version 7: /)]);
  });

  it('says at most 20 of the repairs one message needed, and counts the message once', () => {
    start();
    latest().ready();
    const long = 'n'.repeat(LIMITS.tensorName + 1);
    const versions = Array.from({ length: 25 }, (_, i) => ({
      version: i + 1,
      state: 'valid',
      reason: null,
      sha256: 'a'.repeat(64),
      sizeBytes: 1,
      mtimeMs: 1,
      signature: { inputs: [{ name: long, dtype: 'float32', shape: [1] }], outputs: [] },
      timings: null,
      batching: null,
    }));
    latest().say({ type: 'repository', models: [{ name: 'm', config: null, configError: null, versions }] });
    expect(events.since(0).filter((e) => e.kind === 'updater-invalid-message')).toHaveLength(20);
    expect(supervisor.stats().invalidMessages).toBe(1);
  });

  it("logs the updater's log lines at their level", () => {
    start();
    latest().ready();
    latest().say({ type: 'log', level: 'warn', message: 'disk is slow' });
    expect(events.since(0).filter((e) => e.kind === 'updater-log')).toMatchObject([{ level: 'warn', message: 'updater: disk is slow' }]);
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
    vi.advanceTimersByTime(49);
    expect(launched).toHaveLength(1); // the backoff holds after a ready timeout too
    vi.advanceTimersByTime(1);
    expect(launched).toHaveLength(2);
    expect(supervisor.stats().state).toBe('starting');
  });

  it('calls a late updater degraded on its own, ready again at its next heartbeat, and kills it after the missed heartbeats', () => {
    start({ missedHeartbeats: 5, backoffInitialMs: 250 });
    latest().ready();
    // The watchdog looks every 100 ms: degraded once a heartbeat is more than 150 ms late, killed past 500.
    vi.advanceTimersByTime(50);
    latest().beat(); // at 50 ms: the looks at 100, 200, 300 find it 50, exactly 150, then 250 ms old
    vi.advanceTimersByTime(150);
    expect(supervisor.stats().state).toBe('ready');
    vi.advanceTimersByTime(100);
    expect(supervisor.stats().state).toBe('degraded');
    vi.advanceTimersByTime(100); // still late at 350 ms: said once, not at every look
    expect(
      events
        .since(0)
        .filter((e) => e.kind === 'updater-degraded')
        .map((e) => e.message),
    ).toEqual(['updater heartbeat late (250 ms)']);
    expect(supervisor.ready).toBe(true); // degraded still serves messages
    latest().beat();
    expect(supervisor.stats().state).toBe('ready');
    vi.advanceTimersByTime(500); // exactly 500 ms old at the last look: late, not yet given up on
    expect(supervisor.stats().state).toBe('degraded');
    expect(latest().killed).toBe(false);
    vi.advanceTimersByTime(100); // 600 ms without a heartbeat: more than 5 intervals
    expect(launched[0]!.killed).toBe(true);
    expect(supervisor.stats()).toMatchObject({ state: 'dead', missedHeartbeatKills: 1, lastError: 'no heartbeat for 600 ms' });
    vi.advanceTimersByTime(249);
    expect(launched).toHaveLength(1); // a hung updater is restarted after the backoff too
    expect(supervisor.stats().missedHeartbeatKills).toBe(1); // a dead one is not judged again at the looks while it waits
    vi.advanceTimersByTime(1);
    expect(launched).toHaveLength(2);
  });

  it('restarts at once when the operator asks, with no backoff', () => {
    start();
    latest().ready();
    supervisor.restart();
    expect(launched[0]!.killed).toBe(true);
    expect(supervisor.stats().lastError).toBe('restart requested');
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
    const warnings = events
      .since(0)
      .filter((e) => e.kind === 'updater-invalid-message')
      .map((e) => e.message);
    expect(warnings[0]).toBe('updater sent "repository" before "ready"; dropped');
    expect(warnings[1]).toMatch(/^invalid message from the updater dropped: /);
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
    supervisor.restart();
    vi.advanceTimersByTime(10_000);
    expect(launched).toHaveLength(1); // nor an operator's restart
  });
});
