/**
 * Which frames may talk to the main process: only the app's own top-level page, served
 * from app://switchboard/ (see app-protocol.ts) or from the dev server. Kept free of
 * electron imports so it is unit-tested in plain Node.
 */
import { APP_HOST, APP_SCHEME } from './app-protocol.js';

export interface TrustedOrigins {
  /** Origin of the dev server (ELECTRON_RENDERER_URL), when running `electron-vite dev`. */
  readonly devOrigin?: string;
}

export function isTrustedSenderUrl(url: string | undefined, trusted: TrustedOrigins): boolean {
  if (!url) return false;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false; // not a URL at all: not our page
  }
  if (parsed.protocol === 'file:') return false; // any local file would share file://; the app's page is not one
  // A custom scheme's URL has no origin in Node's URL ('null'): compare scheme and host.
  if (parsed.protocol === `${APP_SCHEME}:` && parsed.host === APP_HOST) return parsed.pathname === '/' || parsed.pathname === '/index.html';
  return trusted.devOrigin !== undefined && parsed.origin === trusted.devOrigin;
}

/** What the sender check needs of an IPC event (Electron's satisfies it). */
export interface IpcSenderEvent {
  readonly sender: unknown;
  readonly senderFrame: { readonly parent: unknown; readonly url: string } | null;
}

/** The event comes from this window's own top frame, showing the app's page. */
export function isTrustedSender(event: IpcSenderEvent, windowContents: unknown, trusted: TrustedOrigins): boolean {
  return (
    event.sender === windowContents &&
    event.senderFrame !== null &&
    event.senderFrame.parent === null &&
    isTrustedSenderUrl(event.senderFrame.url, trusted)
  );
}
