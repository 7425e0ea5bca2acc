/**
 * Preload: the only bridge between the sandboxed renderer and the main process. It
 * exposes a small, typed API through contextBridge and nothing else (no ipcRenderer,
 * no Node). The typed IPC contract grows here with the dashboard.
 */
import { contextBridge } from 'electron';

const api = {
  platform: process.platform,
  versions: { electron: process.versions.electron, chrome: process.versions.chrome },
} as const;

export type SwitchboardApi = typeof api;

contextBridge.exposeInMainWorld('switchboard', api);
