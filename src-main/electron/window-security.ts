/**
 * The window's security settings and guards, as data and small functions the Electron
 * entry passes on, so that tests can check them without the Electron binary: a sandboxed,
 * context-isolated renderer without Node; no navigation, redirect, frame navigation, new
 * window or external link (the app needs none, so the allowlist is empty); no permission.
 */
export interface WindowWebPreferences {
  readonly preload: string;
  readonly sandbox: true;
  readonly contextIsolation: true;
  readonly nodeIntegration: false;
  readonly nodeIntegrationInWorker: false;
  readonly nodeIntegrationInSubFrames: false;
  readonly webSecurity: true;
  readonly allowRunningInsecureContent: false;
  readonly webviewTag: false;
  readonly navigateOnDragDrop: false;
}

export function windowWebPreferences(preload: string): WindowWebPreferences {
  return {
    preload,
    sandbox: true,
    contextIsolation: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    navigateOnDragDrop: false,
  };
}

/** Links the app may open in the user's browser: none. A URL must match one of these origins exactly. */
export const EXTERNAL_ORIGINS: readonly string[] = [];

export function externalLinkAllowed(url: string, allowed: readonly string[] = EXTERNAL_ORIGINS): boolean {
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' && allowed.includes(parsed.origin);
  } catch {
    return false;
  }
}

/** What the guards need of a webContents (Electron's satisfies it; a test passes a fake). */
export interface GuardedContents {
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void;
  on(
    event: 'will-navigate' | 'will-redirect' | 'will-frame-navigate' | 'will-attach-webview',
    listener: (event: { preventDefault(): void }) => void,
  ): unknown;
}

/** Deny new windows (opening an allowed link in the browser instead), navigation, redirects, frame navigation and webviews. */
export function installWindowGuards(contents: GuardedContents, openExternal: (url: string) => void): void {
  contents.setWindowOpenHandler(({ url }) => {
    if (externalLinkAllowed(url)) openExternal(url);
    return { action: 'deny' };
  });
  for (const event of ['will-navigate', 'will-redirect', 'will-frame-navigate', 'will-attach-webview'] as const)
    contents.on(event, (e) => e.preventDefault());
}

/**
 * Every permission request (camera, notifications, clipboard reads, ...) is refused but
 * writing text to the clipboard, which the Endpoints page's copy buttons need.
 */
export function grantOnlyClipboardWrite(_contents: unknown, permission: string, callback: (granted: boolean) => void): void {
  callback(permission === 'clipboard-sanitized-write');
}
