/**
 * The desktop app's side of the contract, wired to Electron: the command executor with the
 * main-process file dialog, and the window's sender-checked channel (window-channel.ts,
 * where the checks live and are tested without Electron).
 */
import { createReadStream } from 'node:fs';
import { app, dialog, ipcMain, type BrowserWindow } from 'electron';
import type { ProcessMetric } from '../../src-preload/wire.js';
import type { SwitchboardHost } from '../host/switchboard-host.js';
import { CommandExecutor } from '../host/command-executor.js';
import type { TrustedOrigins } from './sender-policy.js';
import { serveWindow } from './window-channel.js';

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
  return serveWindow(
    ipcMain,
    window,
    trusted,
    { execute: (raw) => executor.execute(raw), snapshot: () => host.snapshot(processMetrics()), onEvent: (l) => host.engine.onEvent(l) },
    telemetryHz,
  );
}
