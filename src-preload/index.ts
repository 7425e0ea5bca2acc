/**
 * Preload: the only bridge between the sandboxed renderer and the main process. It
 * exposes a small typed API through contextBridge (never ipcRenderer itself), built
 * from the shared contract's channel names.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import type { SwitchboardApi } from './api.js';
import { IPC } from './channels.js';

function subscribe<T>(channel: string, listener: (payload: T) => void): () => void {
  const wrapped = (_event: IpcRendererEvent, payload: T) => listener(payload);
  ipcRenderer.on(channel, wrapped);
  return () => ipcRenderer.off(channel, wrapped);
}

const api: SwitchboardApi = {
  platform: process.platform,
  onTelemetry: (listener) => {
    const unsubscribe = subscribe(IPC.telemetry, (snapshot: Parameters<typeof listener>[0]) => {
      listener(snapshot);
      // Tell main this snapshot was taken: it sends the next one only then (one in flight at most).
      ipcRenderer.send(IPC.telemetryAck);
    });
    // And that the page listens now: main sends nothing before (a snapshot sent while the
    // page loads, or reloads, would be lost, and telemetry would wait for its ack for good).
    ipcRenderer.send(IPC.telemetryAck);
    return unsubscribe;
  },
  onEvent: (listener) => subscribe(IPC.event, listener),
  command: (name, args) => ipcRenderer.invoke(IPC.command, { id: 0, command: name, args }),
};

contextBridge.exposeInMainWorld('switchboard', api);
