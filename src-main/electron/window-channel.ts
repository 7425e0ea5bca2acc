/**
 * The contract's main-process side for one window, kept free of electron imports so that
 * its checks are unit-tested here, where no Electron binary exists: commands and telemetry
 * acknowledgements are taken only from the window's own top frame showing the app's page
 * (sender-policy.ts), and telemetry goes at a fixed rate with at most one snapshot in flight.
 * ipc.ts hands it Electron's ipcMain and the BrowserWindow, which satisfy these interfaces.
 */
import { IPC, type CommandReply } from '../../src-preload/contract.js';
import type { EngineEvent } from '../engine/index.js';
import { TelemetryPacer } from '../host/telemetry-pacer.js';
import { isTrustedSender, type IpcSenderEvent, type TrustedOrigins } from './sender-policy.js';

/** What of Electron's ipcMain the window's channel uses. */
export interface IpcMainLike {
  handle(channel: string, listener: (event: IpcSenderEvent, raw: unknown) => Promise<CommandReply>): void;
  removeHandler(channel: string): void;
  on(channel: string, listener: (event: IpcSenderEvent) => void): void;
  off(channel: string, listener: (event: IpcSenderEvent) => void): void;
}

/** What of a BrowserWindow it uses. */
export interface WindowLike {
  readonly webContents: { send(channel: string, ...args: unknown[]): void };
  isDestroyed(): boolean;
}

export interface WindowSources {
  execute(raw: unknown): Promise<CommandReply>;
  snapshot(): unknown;
  onEvent(listener: (event: EngineEvent) => void): () => void;
}

const FORBIDDEN_SENDER: CommandReply = Object.freeze({
  id: -1,
  ok: false,
  error: { code: 'FORBIDDEN', message: 'commands are accepted only from the Switchboard window' },
});

/** Install the window's handlers; returns what removes them. */
export function serveWindow(
  ipc: IpcMainLike,
  window: WindowLike,
  trusted: TrustedOrigins,
  sources: WindowSources,
  telemetryHz: number,
): () => void {
  const trustedEvent = (event: IpcSenderEvent) => isTrustedSender(event, window.webContents, trusted);

  ipc.handle(IPC.command, async (event, raw) => (trustedEvent(event) ? sources.execute(raw) : FORBIDDEN_SENDER));

  const telemetry = new TelemetryPacer(telemetryHz, () => {
    if (!window.isDestroyed()) window.webContents.send(IPC.telemetry, sources.snapshot());
  });
  // The preload says ready when the page subscribes (also after a reload) and after each snapshot.
  const onAck = (event: IpcSenderEvent) => {
    if (trustedEvent(event)) telemetry.ready();
  };
  ipc.on(IPC.telemetryAck, onAck);
  const unsubscribe = sources.onEvent((event) => {
    if (!window.isDestroyed()) window.webContents.send(IPC.event, event);
  });
  return () => {
    telemetry.close();
    unsubscribe();
    ipc.removeHandler(IPC.command);
    ipc.off(IPC.telemetryAck, onAck);
  };
}
