/**
 * The updater: a separate OS process (Electron utilityProcess, or child_process.fork
 * headless) that watches the model repository, validates new versions in isolation and
 * reports them to the engine's host. It says "ready" once it can work, sends heartbeats,
 * and validates every message it receives.
 */
import { watch, type FSWatcher } from 'chokidar';
import { z } from 'zod';
import { asError } from '../engine/errors.js';
import { processCpuMs } from '../util/cpu-share.js';
import { lowerPriority } from '../util/priority.js';
import { checkToHost, truncateForReport } from './message-check.js';
import { LIMITS, SETTINGS_ENV, ToUpdaterSchema, UpdaterSettingsSchema, PROTOCOL_VERSION, type ToHost, type ToUpdater } from './protocol.js';
import { RepositoryTracker } from './repository-tracker.js';
import { emptyTrash, moveToTrash } from './retention.js';
import { Validator } from './validator.js';

interface ParentChannel {
  send(message: ToHost): void;
  onMessage(handler: (message: unknown) => void): void;
}

/** Electron's utilityProcess has process.parentPort; child_process.fork has process.send. */
function parentChannel(): ParentChannel {
  const parentPort = (
    process as NodeJS.Process & {
      parentPort?: { postMessage(m: unknown): void; on(e: 'message', l: (e: { data: unknown }) => void): void };
    }
  ).parentPort;
  if (parentPort) {
    return { send: (m) => parentPort.postMessage(m), onMessage: (h) => parentPort.on('message', (e) => h(e.data)) };
  }
  if (process.send) {
    return {
      // Once the host is gone there is no one to tell: a send then is dropped, not an unhandled ERR_IPC_CHANNEL_CLOSED.
      send: (m) => {
        if (process.connected) process.send!(m, undefined, undefined, () => undefined);
      },
      onMessage: (h) => process.on('message', h),
    };
  }
  throw new Error('the updater must be started by the Switchboard host (no IPC channel)');
}

function readSettings() {
  let raw: unknown;
  try {
    raw = JSON.parse(process.env[SETTINGS_ENV] ?? 'null');
  } catch (error) {
    throw new Error(`${SETTINGS_ENV} is not JSON: ${asError(error).message}`, { cause: error });
  }
  const parsed = UpdaterSettingsSchema.safeParse(raw);
  if (!parsed.success) throw new Error(`${SETTINGS_ENV}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

lowerPriority();
const channel = parentChannel();
const settings = readSettings();
const tracker = new RepositoryTracker(settings);
const validator = new Validator(settings.validationTimeoutMs);
let validating = false;
let stopping = false;
let heartbeatSeq = 0;

function log(level: 'info' | 'warn' | 'error', message: string): void {
  send({ type: 'log', level, message });
}

/**
 * Every message is checked before it goes: one that breaks a limit is repaired field by
 * field (a version that cannot be reported goes as invalid, with the reason), so that no
 * version is left "validating" on the host because its verdict was refused there.
 */
function send(message: ToHost): void {
  const checked = checkToHost(message);
  if (!checked.ok) {
    channel.send({
      type: 'log',
      level: 'error',
      message: `a ${message.type} message broke the protocol and was not sent: ${checked.error}`,
    });
    return;
  }
  channel.send(checked.message);
  for (const repair of checked.repairs) channel.send({ type: 'log', level: 'warn', message: truncateForReport(repair, LIMITS.log) });
}

let fullViewSent = false;

/** The whole view once (and after a rescan request), then only what changed. */
function publish(): void {
  if (!fullViewSent) {
    tracker.changes();
    send({ type: 'repository', models: tracker.view() });
    fullViewSent = true;
    return;
  }
  for (const message of tracker.changes()) send(message);
}

/** Paths the file watcher reported since the last look: only what they name is read again. */
const changedPaths = new Set<string>();
let fullScanWanted = true;
let working = false;
let workAgain = false;

/**
 * One look at the repository at a time: the whole of it when asked (at start, on the host's
 * rescan, and every fullScanIntervalMs as a safety net for events a filesystem does not
 * send), else what the watcher's events named, else the versions still settling (the
 * poll). Then what changed goes to the host, retention runs, and validation goes on.
 */
async function work(): Promise<void> {
  if (working) {
    workAgain = true;
    return;
  }
  working = true;
  try {
    do {
      workAgain = false;
      let changed: boolean;
      if (fullScanWanted) {
        fullScanWanted = false;
        changedPaths.clear();
        changed = await tracker.scan();
      } else if (changedPaths.size > 0) {
        const paths = [...changedPaths];
        changedPaths.clear();
        changed = await tracker.refresh(paths);
      } else changed = await tracker.settle();
      if (changed || !fullViewSent) publish();
      await retire();
    } while ((workAgain || changedPaths.size > 0 || fullScanWanted) && !stopping);
  } catch (error) {
    log('error', `repository scan failed: ${asError(error).message}`);
  } finally {
    working = false;
  }
  void validateNext();
}

function scan(): void {
  fullScanWanted = true;
  void work();
}

let trashEmptiedAt = 0;

/** Apply each model's retention, and empty the trash of what is old enough (at most once a minute). */
async function retire(): Promise<void> {
  try {
    for (const { model, versions, retain } of tracker.retirements()) {
      for (const version of versions) {
        await moveToTrash(settings.repository, model, version, Date.now());
        tracker.forget(model, version);
      }
      log(
        'info',
        `model "${model}": ${versions.length} version(s) older than the newest ${retain} valid moved to the trash (${versions.join(', ')})`,
      );
    }
    publish();
    if (Date.now() - trashEmptiedAt >= 60_000) {
      trashEmptiedAt = Date.now();
      const removed = await emptyTrash(settings.repository, settings.trashMaxAgeMs, Date.now());
      if (removed > 0) log('info', `${removed} retired version(s) deleted from the trash`);
    }
  } catch (error) {
    // A folder taken meanwhile (the operator moved it, a second updater): reported, and the next scan sees the truth.
    log('warn', `retention: ${asError(error).message}`);
  }
}

async function validateNext(): Promise<void> {
  if (validating || stopping) return;
  const next = tracker.next();
  if (!next) return;
  const stamp = tracker.fileStamp(next.model, next.version)!;
  validating = true;
  tracker.markValidating(next.model, next.version);
  publish();
  try {
    const verdict = await validator.run(next.request);
    if (settings.validationDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, settings.validationDelayMs));
    tracker.setVerdict(next.model, next.version, verdict, stamp);
    publish();
    await retire();
  } finally {
    validating = false;
  }
  void validateNext();
}

function handle(message: ToUpdater): void {
  switch (message.type) {
    case 'active':
      tracker.setActive(message.model, message.version, message.signature, message.loaded);
      break;
    case 'force':
      tracker.force(message.model, message.version);
      publish();
      void validateNext();
      break;
    case 'rescan':
      if (message.revalidate) tracker.revalidateAll();
      fullViewSent = false;
      scan();
      break;
    case 'debug':
      if (!settings.allowDebug) {
        log('warn', 'debug message ignored (allowDebug is off)');
        return;
      }
      if (message.action === 'crash') process.exit(70);
      for (;;) {
        /* deliberately hung: the host's watchdog must notice the missing heartbeats */
      }
    case 'shutdown':
      void shutdown();
      break;
  }
}

const watcher: FSWatcher = watch(settings.repository, { ignoreInitial: true, depth: 3, followSymlinks: false });
const heartbeat = setInterval(() => {
  send({
    type: 'heartbeat',
    seq: ++heartbeatSeq,
    sentAtMs: Date.now(),
    validating,
    cpuMs: processCpuMs(),
    rssBytes: process.memoryUsage.rss(),
  });
}, settings.heartbeatIntervalMs);
// The poll drives the settle timer (re-reading only versions still settling); the full scan is the safety net for missed events.
const poll = setInterval(() => void work(), settings.scanIntervalMs);
const fullScan = setInterval(scan, settings.fullScanIntervalMs);

async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  clearInterval(heartbeat);
  clearInterval(poll);
  clearInterval(fullScan);
  await watcher.close();
  await validator.close();
  process.exit(0);
}

channel.onMessage((raw) => {
  const parsed = ToUpdaterSchema.safeParse(raw);
  if (!parsed.success) {
    log('warn', `invalid message from host dropped: ${z.prettifyError(parsed.error)}`);
    return;
  }
  handle(parsed.data);
});

// The host is gone (its channel closed): nothing will read a verdict, so stop rather than linger.
process.on('disconnect', () => void shutdown());
watcher.on('all', (_event, path) => {
  changedPaths.add(path);
  void work();
});
watcher.on('error', (error) => log('warn', `file watcher: ${asError(error).message}`));
watcher.once('ready', () => {
  send({ type: 'ready', pid: process.pid, protocol: PROTOCOL_VERSION });
  scan();
});
