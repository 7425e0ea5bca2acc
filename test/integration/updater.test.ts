import { availableParallelism } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { EventLog } from '../../src-main/engine/events.js';
import { forkLauncher, UPDATER_ENTRY } from '../../src-main/updater/launcher.js';
import { UpdaterSupervisor, type SupervisorOptions } from '../../src-main/updater/supervisor.js';
import { TestRepository } from '../fixtures/repository.js';
import { until } from './helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

function supervise(options: Partial<SupervisorOptions> & { fixture?: string } = {}) {
  const repo = new TestRepository();
  const events = new EventLog();
  const entry = options.fixture ? { callerUrl: import.meta.url, source: options.fixture, built: 'unused.js' } : UPDATER_ENTRY;
  const supervisor = new UpdaterSupervisor(
    forkLauncher(entry),
    {
      settings: { repository: repo.root, heartbeatIntervalMs: 100, allowDebug: true, ...options.settings },
      backoffInitialMs: 50,
      ...options,
    },
    events,
  );
  cleanups.push(() => repo.cleanup());
  cleanups.push(() => supervisor.stop());
  return { supervisor, events, repo };
}

describe('updater process supervision', () => {
  it('runs the updater in another OS process and completes the ready handshake', async () => {
    const { supervisor } = supervise();
    supervisor.start();
    await supervisor.whenReady();
    const stats = supervisor.stats();
    expect(stats.state).toBe('ready');
    expect(stats.pid).not.toBe(process.pid);
    expect(alive(stats.pid!)).toBe(true);
    await until(() => supervisor.stats().lastHeartbeatAgeMs !== null, 5000, 'heartbeats');
    // Its heartbeats carry its own CPU time and memory; a share needs two beats a second apart.
    await until(() => supervisor.stats().cpuPercent !== null, 5000, 'a CPU share from its heartbeats');
    // A percentage of one core, so at most 100 per core: a share in another unit (ms, a fraction) would fall outside.
    const cpu = supervisor.stats().cpuPercent!;
    expect(Number.isFinite(cpu) && cpu >= 0 && cpu <= 100 * availableParallelism()).toBe(true);
    expect(supervisor.stats().rssBytes).toBeGreaterThan(10 * 1024 * 1024); // a Node process holds more than 10 MB
    const pid = stats.pid!;
    await supervisor.stop();
    expect(alive(pid)).toBe(false);
    expect(supervisor.stats().state).toBe('stopped');
    expect(supervisor.stats()).toMatchObject({ pid: null, cpuPercent: null, rssBytes: null });
  });

  it('kills and retries an updater that never says ready', async () => {
    const { supervisor, events } = supervise({ fixture: '../fixtures/silent-updater.mjs', readyTimeoutMs: 300 });
    supervisor.start();
    const firstPid = supervisor.pid!;
    await until(() => supervisor.stats().readyTimeouts >= 1 && supervisor.stats().restarts >= 1, 10_000, 'a ready timeout and a restart');
    expect(supervisor.stats().state === 'starting' || supervisor.stats().state === 'dead').toBe(true);
    await until(() => !alive(firstPid), 5000, 'the silent process killed');
    expect(events.since().some((e) => e.kind === 'updater-restarting' && /no ready message within 300 ms/.test(e.message))).toBe(true);
  });

  it('detects a hung updater by its missing heartbeats, kills it and starts another', async () => {
    const { supervisor, events } = supervise({ missedHeartbeats: 3 });
    supervisor.start();
    await supervisor.whenReady();
    const hungPid = supervisor.pid!;
    expect(supervisor.send({ type: 'debug', action: 'hang' })).toBe(true);
    await until(() => supervisor.stats().missedHeartbeatKills === 1, 10_000, 'hang detected');
    await until(() => supervisor.stats().state === 'ready' && supervisor.pid !== hungPid, 10_000, 'a new updater ready');
    await until(() => !alive(hungPid), 5000, 'the hung process killed');
    expect(supervisor.stats().restarts).toBe(1);
    expect(events.since().some((e) => e.kind === 'updater-degraded' || e.kind === 'updater-restarting')).toBe(true);
  });

  // The backoff's timing is held in test/unit/updater-supervisor.test.ts, with fake timers.
  it('starts a new updater process after the real one crashes, and it becomes ready', async () => {
    const { supervisor, events } = supervise();
    supervisor.start();
    await supervisor.whenReady();
    const first = supervisor.pid!;
    supervisor.send({ type: 'debug', action: 'crash' });
    await until(
      () => supervisor.stats().restarts === 1 && supervisor.stats().state === 'ready' && supervisor.pid !== first,
      10_000,
      'restart',
    );
    expect(supervisor.stats().lastError).toBeNull(); // cleared by the new process's ready
    expect(events.since(0).some((e) => e.kind === 'updater-restarting' && /exited with code/.test(e.message))).toBe(true);
  });

  it('drops malformed messages instead of trusting them', async () => {
    const { supervisor, events } = supervise({ fixture: '../fixtures/chatty-updater.mjs' });
    const repositories: unknown[] = [];
    supervisor.onMessage((m) => repositories.push(m));
    supervisor.start();
    await supervisor.whenReady();
    await until(() => supervisor.stats().invalidMessages >= 3, 5000, 'three invalid messages counted');
    expect(repositories).toEqual([]);
    expect(events.since().filter((e) => e.kind === 'updater-invalid-message').length).toBeGreaterThanOrEqual(3);
    expect(() => supervisor.send({ type: 'debug', action: 'explode' } as never)).toThrow();
  });
});
