/**
 * The desktop app's side of the contract: one sender-checked handler for commands, and
 * telemetry pushed to the window at a fixed rate with at most one snapshot in flight
 * (TelemetryPacer; the preload says when the page listens and when it took each one).
 */
import { createReadStream } from 'node:fs';
import { app, dialog, ipcMain, type BrowserWindow, type IpcMainEvent, type IpcMainInvokeEvent } from 'electron';
import { IPC, type CommandReply } from '../../src-preload/contract.js';
import type { ProcessMetric } from '../../src-preload/wire.js';
import type { SwitchboardHost } from '../host/switchboard-host.js';
import { TelemetryPacer } from '../host/telemetry-pacer.js';
import { CommandExecutor } from '../host/command-executor.js';
import { isTrustedSender, type TrustedOrigins } from './sender-policy.js';

function processMetrics(): ProcessMetric[] {
  return app.getAppMetrics().map((m) => ({
    pid: m.pid,
    type: m.type,
    name: m.name ?? m.serviceName ?? null,
    cpuPercent: m.cpu.percentCPUUsage,
    memoryKb: m.memory.workingSetSize,
  }));
}

export function connectWindow(host: SwitchboardHost, window: BrowserWindow, trusted: TrustedOrigins, telemetryHz = 4): () => void {
  const executor = new CommandExecutor(host, {
    // The file is chosen here, in the main process: the renderer names a model, never a path.
    pickModelFile: async () => {
      const picked = await dialog.showOpenDialog(window, {
        title: 'Add a model version',
        filters: [{ name: 'ONNX model', extensions: ['onnx'] }],
        properties: ['openFile'],
      });
      return picked.canceled || picked.filePaths.length === 0 ? null : createReadStream(picked.filePaths[0]!);
    },
  });
  const trustedEvent = (event: IpcMainInvokeEvent | IpcMainEvent) => isTrustedSender(event, window.webContents, trusted);

  ipcMain.handle(IPC.command, async (event, raw: unknown): Promise<CommandReply> => {
    if (!trustedEvent(event))
      return { id: -1, ok: false, error: { code: 'FORBIDDEN', message: 'commands are accepted only from the Switchboard window' } };
    return executor.execute(raw);
  });

  const telemetry = new TelemetryPacer(telemetryHz, () => {
    if (!window.isDestroyed()) window.webContents.send(IPC.telemetry, host.snapshot(processMetrics()));
  });
  // The preload says ready when the page subscribes (also after a reload) and after each snapshot.
  const onAck = (event: IpcMainEvent) => {
    if (trustedEvent(event)) telemetry.ready();
  };
  ipcMain.on(IPC.telemetryAck, onAck);
  const unsubscribe = host.engine.onEvent((event) => {
    if (!window.isDestroyed()) window.webContents.send(IPC.event, event);
  });
  return () => {
    telemetry.close();
    unsubscribe();
    ipcMain.removeHandler(IPC.command);
    ipcMain.off(IPC.telemetryAck, onAck);
  };
}
