/**
 * The desktop window's security, checked through the seams the Electron entry passes on,
 * so that it is held here where no Electron binary exists; the Electron journeys check
 * the real window where one does.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { APP_PAGE_URL, appFileFor, appResponseHeaders, DESKTOP_CSP } from '../../src-main/electron/app-protocol.js';
import {
  grantOnlyClipboardWrite,
  externalLinkAllowed,
  installWindowGuards,
  windowWebPreferences,
} from '../../src-main/electron/window-security.js';

const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('desktop window options', () => {
  it('is sandboxed and context-isolated, without Node anywhere, and keeps web security', () => {
    expect(windowWebPreferences('/app/preload/index.cjs')).toEqual({
      preload: '/app/preload/index.cjs',
      sandbox: true,
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      navigateOnDragDrop: false,
    });
  });

  it('denies every new window, navigation, redirect, frame navigation and webview, and opens no external link', () => {
    const listeners = new Map<string, (e: { preventDefault(): void }) => void>();
    let openHandler: ((d: { url: string }) => { action: 'deny' }) | undefined;
    const opened: string[] = [];
    installWindowGuards(
      {
        setWindowOpenHandler: (handler) => (openHandler = handler),
        on: (event, listener) => listeners.set(event, listener),
      },
      (url) => opened.push(url),
    );
    expect([...listeners.keys()].sort()).toEqual(['will-attach-webview', 'will-frame-navigate', 'will-navigate', 'will-redirect']);
    for (const listener of listeners.values()) {
      let prevented = false;
      listener({ preventDefault: () => (prevented = true) });
      expect(prevented).toBe(true);
    }
    for (const url of ['https://example.com/', 'http://example.com/', 'file:///etc/passwd', 'javascript:alert(1)'])
      expect(openHandler!({ url })).toEqual({ action: 'deny' });
    expect(opened).toEqual([]); // the allowlist is empty: the app needs no external link
    expect(externalLinkAllowed('https://docs.example/', ['https://docs.example'])).toBe(true);
    expect(externalLinkAllowed('http://docs.example/', ['https://docs.example'])).toBe(false);
    expect(externalLinkAllowed('https://docs.example.evil/', ['https://docs.example'])).toBe(false);
  });

  it('refuses every permission but writing text to the clipboard', () => {
    const answers: Record<string, boolean> = {};
    for (const permission of ['media', 'clipboard-read', 'notifications', 'openExternal', 'clipboard-sanitized-write'])
      grantOnlyClipboardWrite({}, permission, (granted) => (answers[permission] = granted));
    expect(answers).toEqual({
      media: false,
      'clipboard-read': false,
      notifications: false,
      openExternal: false,
      'clipboard-sanitized-write': true,
    });
  });
});

describe('app:// protocol', () => {
  it('serves files of the renderer bundle only, with the desktop CSP on the page', () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-renderer-'));
    made.push(dir);
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html>');
    expect(appFileFor(dir, APP_PAGE_URL)).toBe(join(dir, 'index.html'));
    expect(appFileFor(dir, 'app://switchboard/')).toBe(join(dir, 'index.html'));
    expect(appFileFor(dir, 'app://switchboard/assets/index.js')).toBe(join(dir, 'assets', 'index.js'));
    // The URL parser already folds ".." and "%2e%2e": what is left lies inside the bundle.
    expect(appFileFor(dir, 'app://switchboard/../secret')).toBe(join(dir, 'secret'));
    expect(appFileFor(dir, 'app://switchboard/%2e%2e/secret')).toBe(join(dir, 'secret'));
    for (const outside of [
      'app://switchboard/..%2fsecret',
      'app://other/index.html',
      'file:///etc/passwd',
      'app://switchboard/%zz',
      'app://switchboard/a%00b',
      `app://switchboard/${'a'.repeat(2000)}`,
      'not a url',
    ])
      expect(appFileFor(dir, outside), outside).toBeUndefined();
    expect(appResponseHeaders(join(dir, 'index.html'))['Content-Security-Policy']).toBe(DESKTOP_CSP);
    expect(DESKTOP_CSP).toContain("connect-src 'self';"); // IPC only: no WebSocket, no network
    expect(DESKTOP_CSP).not.toMatch(/ws:/);
  });
});
