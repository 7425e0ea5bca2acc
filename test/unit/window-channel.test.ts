/**
 * The desktop window's IPC channel through its electron-free seam: ipcMain and the window
 * are stand-ins, so the sender check that guards every command and acknowledgement is
 * held here; the Electron journeys cover the real window where a binary exists.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { IPC, type CommandReply } from '../../src-preload/contract.js';
import type { EngineEvent } from '../../src-main/engine/index.js';
import type { IpcSenderEvent } from '../../src-main/electron/sender-policy.js';
import { serveWindow, type IpcMainLike } from '../../src-main/electron/window-channel.js';

class FakeIpcMain implements IpcMainLike {
  readonly handlers = new Map<string, (event: IpcSenderEvent, raw: unknown) => Promise<CommandReply>>();
  readonly listeners = new Map<string, Set<(event: IpcSenderEvent) => void>>();
  handle(channel: string, listener: (event: IpcSenderEvent, raw: unknown) => Promise<CommandReply>): void {
    if (this.handlers.has(channel)) throw new Error(`a second handler for ${channel}`); // as Electron refuses it
    this.handlers.set(channel, listener);
  }
  removeHandler(channel: string): void {
    this.handlers.delete(channel);
  }
  on(channel: string, listener: (event: IpcSenderEvent) => void): void {
    if (!this.listeners.has(channel)) this.listeners.set(channel, new Set());
    this.listeners.get(channel)!.add(listener);
  }
  off(channel: string, listener: (event: IpcSenderEvent) => void): void {
    this.listeners.get(channel)?.delete(listener);
  }
  invoke(event: IpcSenderEvent, raw: unknown): Promise<CommandReply> {
    return this.handlers.get(IPC.command)!(event, raw);
  }
  emit(channel: string, event: IpcSenderEvent): void {
    for (const listener of this.listeners.get(channel) ?? []) listener(event);
  }
}

const APP_PAGE = 'app://switchboard/index.html';
const sent: { channel: string; payload: unknown }[] = [];
const webContents = { send: (channel: string, payload: unknown) => sent.push({ channel, payload }) };
let destroyed = false;
const window = { webContents, isDestroyed: () => destroyed };
const fromTop = (url = APP_PAGE): IpcSenderEvent => ({ sender: webContents, senderFrame: { parent: null, url } });

/** Events that must be refused: another window, a subframe, a foreign page, a frame that is gone. */
const foreign: [string, IpcSenderEvent][] = [
  ['another window', { sender: { send: () => undefined }, senderFrame: { parent: null, url: APP_PAGE } }],
  ['a subframe', { sender: webContents, senderFrame: { parent: {}, url: APP_PAGE } }],
  ['a foreign page', fromTop('https://evil.example/')],
  ['a local file', fromTop('file:///tmp/index.html')],
  ['a frame that is gone', { sender: webContents, senderFrame: null }],
];

let ipc: FakeIpcMain;
let executed: unknown[];
let eventListener: ((event: EngineEvent) => void) | undefined;
let close: () => void;

beforeEach(() => {
  vi.useFakeTimers();
  sent.length = 0;
  destroyed = false;
  ipc = new FakeIpcMain();
  executed = [];
  close = serveWindow(
    ipc,
    window,
    {},
    {
      execute: (raw) => {
        executed.push(raw);
        return Promise.resolve({ id: 1, ok: true, result: null });
      },
      snapshot: () => ({ at: Date.now() }),
      onEvent: (listener) => {
        eventListener = listener;
        return () => (eventListener = undefined);
      },
    },
    4,
  );
});
afterEach(() => {
  close();
  vi.useRealTimers();
});

describe("the desktop window's IPC channel", () => {
  it("runs a command from the window's own top frame showing the app's page", async () => {
    await expect(ipc.invoke(fromTop(), { id: 1, command: 'engine.pause' })).resolves.toMatchObject({ ok: true });
    expect(executed).toEqual([{ id: 1, command: 'engine.pause' }]);
  });

  it.each(foreign)('refuses a command from %s, running nothing', async (_, event) => {
    await expect(ipc.invoke(event, { id: 1, command: 'engine.pause' })).resolves.toEqual({
      id: -1,
      ok: false,
      error: { code: 'FORBIDDEN', message: 'commands are accepted only from the Switchboard window' },
    });
    expect(executed).toEqual([]);
  });

  it('sends telemetry only once the page says it listens, and takes that word only from the app page', () => {
    vi.advanceTimersByTime(1000);
    expect(sent).toEqual([]);
    for (const [, event] of foreign) ipc.emit(IPC.telemetryAck, event);
    vi.advanceTimersByTime(1000);
    expect(sent).toEqual([]); // no foreign frame can start (or speed up) the telemetry
    ipc.emit(IPC.telemetryAck, fromTop());
    expect(sent.map((m) => m.channel)).toEqual([IPC.telemetry]);
  });

  it('sends no telemetry to a window that is gone', () => {
    destroyed = true;
    ipc.emit(IPC.telemetryAck, fromTop());
    vi.advanceTimersByTime(1000);
    expect(sent).toEqual([]);
  });

  it('forwards engine events while the window lives, and removes every handler when closed', () => {
    eventListener!({ seq: 1 } as EngineEvent);
    destroyed = true;
    eventListener!({ seq: 2 } as EngineEvent);
    expect(sent).toEqual([{ channel: IPC.event, payload: { seq: 1 } }]);
    close();
    expect(ipc.handlers.size).toBe(0);
    expect(ipc.listeners.get(IPC.telemetryAck)!.size).toBe(0);
    expect(eventListener).toBeUndefined();
    close = () => undefined;
  });
});
