/**
 * The desktop app's questions about repositories, Electron glue only: the first-run
 * choice, File › Open Model Repository… with its recent list, and the demo or an empty
 * repository of the operator's own. What a choice does (drain, stop, start the new host)
 * is DesktopSession's, and what is remembered is DesktopRepositories'; both run headless.
 */
import { dialog, Menu, shell, type BrowserWindow } from 'electron';
import { asError } from '../engine/errors.js';
import type { DesktopRepositories, RepositoryChoice } from '../host/desktop-repositories.js';
import type { DesktopSession, StoppableServers } from '../host/desktop-session.js';

/** The folder the operator picks, or undefined when they cancel. */
async function pickFolder(window: BrowserWindow | undefined): Promise<string | undefined> {
  const options = {
    title: 'Open a model repository',
    properties: ['openDirectory', 'createDirectory'] as ('openDirectory' | 'createDirectory')[],
  };
  const picked = window ? await dialog.showOpenDialog(window, options) : await dialog.showOpenDialog(options);
  return picked.canceled ? undefined : picked.filePaths[0];
}

/** A first run: the demo, an empty repository, or a folder of the operator's. */
export async function askFirstChoice(): Promise<RepositoryChoice> {
  const { response } = await dialog.showMessageBox({
    type: 'question',
    title: 'Switchboard',
    message: 'What should Switchboard serve?',
    detail: 'You can switch at any time from the File menu; the choice is remembered.',
    buttons: ['The CartPole demo', 'An empty repository', 'A folder of models…'],
    defaultId: 0,
    cancelId: 0,
  });
  if (response === 1) return { kind: 'empty' };
  if (response === 2) {
    const path = await pickFolder(undefined);
    if (path) return { kind: 'folder', path };
  }
  return { kind: 'demo' };
}

export function installRepositoryMenu<S extends StoppableServers>(
  session: DesktopSession<S>,
  repositories: DesktopRepositories,
  window: () => BrowserWindow | undefined,
): void {
  const open = async (choice: RepositoryChoice | undefined) => {
    if (!choice) return;
    try {
      await session.switchTo(choice);
      repositories.remember(choice);
    } catch (error) {
      dialog.showErrorBox('The repository could not be opened', `${asError(error).message}\n\nSwitchboard serves what it served before.`);
    } finally {
      build();
    }
  };
  const folder = async () => {
    const path = await pickFolder(window());
    return path ? ({ kind: 'folder', path } as const) : undefined;
  };
  const build = () =>
    Menu.setApplicationMenu(
      Menu.buildFromTemplate([
        ...(process.platform === 'darwin' ? [{ role: 'appMenu' as const }] : []),
        {
          label: 'File',
          submenu: [
            { label: 'Open Model Repository…', accelerator: 'CmdOrCtrl+O', click: () => void folder().then(open) },
            {
              label: 'Open Recent',
              enabled: repositories.recent.length > 0,
              submenu: repositories.recent.map((path) => ({ label: path, click: () => void open({ kind: 'folder', path }) })),
            },
            { label: 'CartPole Demo', click: () => void open({ kind: 'demo' }) },
            { label: 'Empty Repository', click: () => void open({ kind: 'empty' }) },
            { type: 'separator' },
            { label: 'Reveal Repository Folder', click: () => void shell.openPath(session.current.host.repository ?? '') },
            { type: 'separator' },
            { role: 'quit' },
          ],
        },
        { role: 'editMenu' },
        { role: 'viewMenu' },
        { role: 'windowMenu' },
      ]),
    );
  build();
}
