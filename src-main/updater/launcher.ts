/**
 * How the host starts the updater process. Two implementations of one small interface:
 * child_process.fork (headless mode and tests, here) and Electron's utilityProcess.fork
 * (src-main/electron/utility-launcher.ts, the only one that imports electron).
 */
import type { ModuleEntry } from '../util/spawn.js';
import { forkModule } from '../util/spawn.js';

export interface UpdaterProcess {
  readonly pid: number | undefined;
  send(message: unknown): void;
  onMessage(handler: (message: unknown) => void): void;
  onExit(handler: (code: number | null) => void): void;
  kill(): void;
}

export type UpdaterLauncher = (env: Record<string, string>) => UpdaterProcess;

/** The updater's own entry, in sources and in the bundle. */
export const UPDATER_ENTRY: ModuleEntry = { callerUrl: import.meta.url, source: './updater-process.ts', built: 'updater.js' };

export function forkLauncher(entry: ModuleEntry = UPDATER_ENTRY): UpdaterLauncher {
  return (env) => {
    const child = forkModule(entry, { env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    return {
      get pid() {
        return child.pid;
      },
      send: (message) => {
        if (child.connected) child.send(message as object);
      },
      onMessage: (handler) => child.on('message', handler),
      onExit: (handler) => child.on('exit', (code) => handler(code)),
      kill: () => {
        child.kill('SIGKILL');
      },
    };
  };
}
