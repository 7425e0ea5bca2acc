/**
 * Electron entry, kept thin: the engine runs in this (main) process on its worker
 * threads and the updater in a utilityProcess; the window only shows them. Security
 * follows Electron's checklist: sandboxed, context-isolated renderer without Node, a
 * strict CSP, the page served from the app:// scheme rather than file://, sender-checked
 * IPC, and no navigation, redirects, new windows, external links or permission grants
 * (electron/window-security.ts holds those settings, tested without Electron).
 */
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { app, BrowserWindow, dialog, Menu, net, protocol, session, shell } from 'electron';
import { APP_PAGE_URL, APP_SCHEME, APP_SCHEME_PRIVILEGES, appFileFor, appResponseHeaders } from './electron/app-protocol.js';
import { connectWindow } from './electron/ipc.js';
import { utilityLauncher } from './electron/utility-launcher.js';
import { loadWindowBounds, saveWindowBounds } from './electron/window-state.js';
import { grantOnlyClipboardWrite, installWindowGuards, windowWebPreferences } from './electron/window-security.js';
import { asError } from './engine/errors.js';
import { SwitchboardHost } from './host/switchboard-host.js';
import { startDesktopProtocolServers } from './host/protocol-servers.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const rendererDir = join(here, '../renderer');

// Before the app is ready, as Electron requires: the scheme the page is served from.
protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: APP_SCHEME_PRIVILEGES }]);

/** app://switchboard/<file>: files of the renderer bundle only, with the desktop CSP on the page. */
function serveAppScheme(): void {
  protocol.handle(APP_SCHEME, async (request) => {
    const file = appFileFor(rendererDir, request.url);
    if (!file) return new Response('not found', { status: 404 });
    const response = await net.fetch(pathToFileURL(file).href);
    const headers = new Headers(response.headers);
    for (const [name, value] of Object.entries(appResponseHeaders(file))) headers.set(name, value);
    return new Response(response.body, { status: response.status, headers });
  });
}

function createWindow(host: SwitchboardHost): BrowserWindow {
  const bounds = loadWindowBounds(app.getPath('userData'));
  const window = new BrowserWindow({
    ...bounds,
    title: 'Switchboard',
    show: false,
    webPreferences: windowWebPreferences(join(here, '../preload/index.cjs')),
  });
  if (bounds.maximized) window.maximize();
  window.once('ready-to-show', () => window.show());
  window.on('close', () => saveWindowBounds(app.getPath('userData'), { ...window.getNormalBounds(), maximized: window.isMaximized() }));
  installWindowGuards(window.webContents, (url) => void shell.openExternal(url));
  const devUrl = process.env.ELECTRON_RENDERER_URL;
  const disconnect = connectWindow(host, window, { devOrigin: devUrl ? new URL(devUrl).origin : undefined });
  window.on('closed', disconnect);
  if (devUrl) void window.loadURL(devUrl);
  else void window.loadURL(APP_PAGE_URL);
  return window;
}

function buildMenu(host: SwitchboardHost): void {
  Menu.setApplicationMenu(
    Menu.buildFromTemplate([
      ...(process.platform === 'darwin' ? [{ role: 'appMenu' as const }] : []),
      {
        label: 'File',
        submenu: [
          { label: 'Open Model Repository Folder', click: () => void (host.repository && shell.openPath(host.repository)) },
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
  session.defaultSession.setPermissionRequestHandler(grantOnlyClipboardWrite);
  serveAppScheme();
  const host = new SwitchboardHost({
    repository: join(app.getPath('userData'), 'repository'),
    demo: { kind: 'cartpole', loop: { checkpointDir: join(app.getPath('userData'), 'experience') } },
    launcher: utilityLauncher(),
  });
  await host.start();
  const protocols = await startDesktopProtocolServers(host, join(app.getPath('userData'), 'api-token'), (message) =>
    console.error(message),
  );
  host.showEndpoints(() => protocols.snapshot());
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
    void protocols
      .stop()
      .then(() => host.stop())
      .finally(() => app.quit());
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
