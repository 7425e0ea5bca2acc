/**
 * The updater as an Electron utilityProcess: the desktop app's implementation of the
 * launcher interface (src-main/updater/launcher.ts). The only updater code that imports
 * electron; headless mode and tests use child_process.fork instead.
 */
import { utilityProcess } from 'electron';
import type { UpdaterLauncher } from '../updater/launcher.js';
import { UPDATER_ENTRY } from '../updater/launcher.js';
import { moduleEntryPath } from '../util/spawn.js';

export function utilityLauncher(): UpdaterLauncher {
  return (env) => {
    const child = utilityProcess.fork(moduleEntryPath(UPDATER_ENTRY), [], {
      env: { ...process.env, ...env },
      serviceName: 'Switchboard updater',
      stdio: 'inherit',
    });
    return {
      get pid() {
        return child.pid;
      },
      send: (message) => child.postMessage(message),
      onMessage: (handler) => child.on('message', handler),
      onExit: (handler) => child.on('exit', (code) => handler(code)),
      kill: () => {
        child.kill();
      },
    };
  };
}
