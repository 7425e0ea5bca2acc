/**
 * The desktop app's page comes from a privileged custom scheme, app://switchboard/, not
 * from file:// (Electron's security checklist): a file:// page could read other local
 * files, and any local index.html would share its origin. The handler serves only files
 * of the renderer bundle, by the same path rule as the dashboard server. Kept free of
 * electron imports so it is unit-tested in plain Node; index.ts registers it.
 */
import { extname } from 'node:path';
import { BadPathError, fileInside } from '../util/static-path.js';

export const APP_SCHEME = 'app';
export const APP_HOST = 'switchboard';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_PAGE_URL = `${APP_ORIGIN}/index.html`;

/** Privileges for protocol.registerSchemesAsPrivileged: a standard, secure origin (no service workers, no CORS bypass). */
export const APP_SCHEME_PRIVILEGES = { standard: true, secure: true, supportFetchAPI: true } as const;

/** The desktop page talks to the main process over IPC only: it needs no network at all. */
export const DESKTOP_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** The bundle file an app:// request names, or undefined (another host, a path outside the bundle or one no file can have). */
export function appFileFor(rendererDir: string, requestUrl: string): string | undefined {
  let url: URL;
  try {
    url = new URL(requestUrl);
  } catch {
    return undefined;
  }
  if (url.protocol !== `${APP_SCHEME}:` || url.host !== APP_HOST) return undefined;
  try {
    return fileInside(rendererDir, url.pathname);
  } catch (error) {
    if (error instanceof BadPathError) return undefined;
    throw error;
  }
}

/** Headers of a served file: the CSP on the page itself. */
export function appResponseHeaders(file: string): Record<string, string> {
  return extname(file) === '.html'
    ? { 'Content-Security-Policy': DESKTOP_CSP, 'X-Content-Type-Options': 'nosniff' }
    : { 'X-Content-Type-Options': 'nosniff' };
}
