/**
 * Renderer entry: pick the transport (the preload's IPC API inside Electron, else the
 * WebSocket of headless mode, authenticated by the cookie the server set when the page was
 * opened with its token), feed the
 * store, render the dashboard.
 */
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import type { SwitchboardApi } from '../../src-preload/api.js';
import { App } from './app.js';
import { dashboardStore } from './store.js';
import { setTransport } from './transport/context.js';
import { IpcTransport } from './transport/ipc.js';
import type { Transport } from './transport/types.js';
import { WebSocketTransport } from './transport/websocket.js';
import './styles.css';

function pickTransport(): Transport {
  const api = (window as Window & { switchboard?: SwitchboardApi }).switchboard;
  if (api) return new IpcTransport(api);
  const params = new URLSearchParams(location.search);
  const hz = params.get('hz');
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws${hz ? `?hz=${encodeURIComponent(hz)}` : ''}`;
  return new WebSocketTransport({ url });
}

const transport = pickTransport();
setTransport(transport);
const store = dashboardStore.getState();
transport.connect({
  snapshot: (s) => dashboardStore.getState().receiveSnapshot(s),
  event: (e) => dashboardStore.getState().receiveEvent(e),
  status: (status, detail) => store.setStatus(status, detail),
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
