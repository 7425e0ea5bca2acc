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
import { app, BrowserWindow, dialog, net, protocol, session as electronSession, shell } from 'electron';
import { APP_PAGE_URL, APP_SCHEME, APP_SCHEME_PRIVILEGES, appFileFor, appResponseHeaders } from './electron/app-protocol.js';
import { connectWindow } from './electron/ipc.js';
import { utilityLauncher } from './electron/utility-launcher.js';
import { loadWindowBounds, saveWindowBounds } from './electron/window-state.js';
import { grantOnlyClipboardWrite, installWindowGuards, windowWebPreferences } from './electron/window-security.js';
import { asError } from './engine/errors.js';
import type { SwitchboardHost } from './host/switchboard-host.js';
import { DesktopRepositories, repositoryArgument, type RepositoryChoice } from './host/desktop-repositories.js';
import { DesktopSession } from './host/desktop-session.js';
import { startDesktopProtocolServers } from './host/protocol-servers.js';
import { askFirstChoice, installRepositoryMenu } from './electron/repository-menu.js';

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

let disconnect: () => void = () => undefined;

function connectTo(host: SwitchboardHost, window: BrowserWindow): () => void {
  const devUrl = process.env.ELECTRON_RENDERER_URL;
  return connectWindow(host, window, { devOrigin: devUrl ? new URL(devUrl).origin : undefined });
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
  disconnect = connectTo(host, window);
  window.on('closed', () => disconnect());
  if (devUrl) void window.loadURL(devUrl);
  else void window.loadURL(APP_PAGE_URL);
  return window;
}

async function main(): Promise<void> {
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  await app.whenReady();
  electronSession.defaultSession.setPermissionRequestHandler(grantOnlyClipboardWrite);
  serveAppScheme();
  const dataDir = app.getPath('userData');
  const repositories = new DesktopRepositories(dataDir);
  const tokenFile = join(dataDir, 'api-token');
  const session = new DesktopSession({
    dataDir,
    launcher: utilityLauncher(),
    repositoryOf: (choice) => repositories.repositoryOf(choice),
    startServers: async (host) => {
      const servers = await startDesktopProtocolServers(host, tokenFile, (message) => console.error(message));
      host.showEndpoints(() => servers.snapshot());
      return servers;
    },
  });
  // A folder on the command line, else the remembered choice, else the first-run question.
  const argument = repositoryArgument(process.argv);
  const choice: RepositoryChoice = argument ? { kind: 'folder', path: argument } : (repositories.choice ?? (await askFirstChoice()));
  await session.switchTo(choice);
  repositories.remember(choice);
  let window = createWindow(session.current.host);
  installRepositoryMenu(session, repositories, () => window);
  // Another repository: the window shows the new host from its first snapshot (a reload resets the charts).
  session.onSwitch((now) => {
    disconnect();
    disconnect = connectTo(now.host, window);
    window.webContents.reload();
  });
  app.on('second-instance', () => {
    if (window.isMinimized()) window.restore();
    window.focus();
  });
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) window = createWindow(session.current.host);
  });
  let quitting = false;
  app.on('before-quit', (event) => {
    if (quitting) return;
    event.preventDefault();
    quitting = true;
    // Drain the engine and stop the updater before the process goes.
    void session.stop().finally(() => app.quit());
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
