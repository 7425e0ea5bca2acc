/**
 * Electron entry, kept thin: the engine runs in this (main) process on its worker
 * threads and the updater in a utilityProcess; the window only shows them. Security
 * follows Electron's checklist: sandboxed, context-isolated renderer without Node, a
 * strict CSP (index.html), sender-checked IPC, and no navigation, new windows or
 * permission grants.
 */
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { app, BrowserWindow, dialog, Menu, session, shell } from 'electron';
import { connectWindow } from './electron/ipc.js';
import { utilityLauncher } from './electron/utility-launcher.js';
import { loadWindowBounds, saveWindowBounds } from './electron/window-state.js';
import { asError } from './engine/errors.js';
import { SwitchboardHost } from './host/switchboard-host.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const indexHtml = join(here, '../renderer/index.html');

function createWindow(host: SwitchboardHost): BrowserWindow {
  const bounds = loadWindowBounds(app.getPath('userData'));
  const window = new BrowserWindow({
    ...bounds,
    title: 'Switchboard',
    show: false,
    webPreferences: {
      preload: join(here, '../preload/index.cjs'),
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      webSecurity: true,
    },
  });
  if (bounds.maximized) window.maximize();
  window.once('ready-to-show', () => window.show());
  window.on('close', () => saveWindowBounds(app.getPath('userData'), { ...window.getNormalBounds(), maximized: window.isMaximized() }));
  window.webContents.setWindowOpenHandler(({ url }) => {
    if (url.startsWith('https://')) void shell.openExternal(url);
    return { action: 'deny' };
  });
  window.webContents.on('will-navigate', (event) => event.preventDefault());
  const devUrl = process.env.ELECTRON_RENDERER_URL;
  const disconnect = connectWindow(host, window, {
    fileUrl: pathToFileURL(indexHtml).href,
    devOrigin: devUrl ? new URL(devUrl).origin : undefined,
  });
  window.on('closed', disconnect);
  if (devUrl) void window.loadURL(devUrl);
  else void window.loadFile(indexHtml);
  return window;
}

function buildMenu(host: SwitchboardHost): void {
  Menu.setApplicationMenu(
    Menu.buildFromTemplate([
      ...(process.platform === 'darwin' ? [{ role: 'appMenu' as const }] : []),
      {
        label: 'File',
        submenu: [
          { label: 'Open Model Repository Folder', click: () => void shell.openPath(host.repository) },
          { type: 'separator' },
          { role: 'quit' },
        ],
      },
      { role: 'editMenu' },
      { role: 'viewMenu' },
      { role: 'windowMenu' },
    ]),
  );
}

async function main(): Promise<void> {
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  await app.whenReady();
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  const host = new SwitchboardHost({
    repository: join(app.getPath('userData'), 'repository'),
    demo: { kind: 'cartpole', loop: { checkpointDir: join(app.getPath('userData'), 'experience') } },
    launcher: utilityLauncher(),
  });
  await host.start();
  buildMenu(host);
  let window = createWindow(host);
  app.on('second-instance', () => {
    if (window.isMinimized()) window.restore();
    window.focus();
  });
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) window = createWindow(host);
  });
  let quitting = false;
  app.on('before-quit', (event) => {
    if (quitting) return;
    event.preventDefault();
    quitting = true;
    // Drain the engine and stop the updater before the process goes.
    void host.stop().finally(() => app.quit());
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
}

main().catch((error: unknown) => {
  // Without this the app would stay running with no window and say nothing.
  console.error('Switchboard could not start:', error);
  dialog.showErrorBox('Switchboard could not start', asError(error).message);
  app.exit(1);
});
