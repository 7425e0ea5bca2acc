/**
 * Which frames may talk to the main process: only the app's own top-level page, loaded
 * from its bundle (file://) or from the dev server. Kept free of electron imports so it
 * is unit-tested in plain Node.
 */
export interface TrustedOrigins {
  /** file:// URL of the bundled index.html. */
  readonly fileUrl: string;
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
  if (parsed.protocol === 'file:') {
    const expected = new URL(trusted.fileUrl);
    return parsed.pathname === expected.pathname;
  }
  return trusted.devOrigin !== undefined && parsed.origin === trusted.devOrigin;
}
