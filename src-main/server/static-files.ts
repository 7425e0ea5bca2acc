/**
 * The built dashboard's files, read-only, from one folder and nothing outside it. A path
 * is decoded once, and refused (400) when its encoding is broken, when it holds a NUL or
 * a control character, or when it is longer than any file the build makes.
 */
import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { HttpError } from './http-basics.js';

/** No file of the build has a path near this long; the file system would refuse some paths past it anyway. */
export const MAX_PATH_LENGTH = 1024;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

/** The path of a request as a file name relative to the folder; HttpError 400 for what no file can be called. */
export function staticRelativePath(pathname: string): string {
  if (pathname.length > MAX_PATH_LENGTH) throw new HttpError(400, 'BAD_PATH', `path longer than ${MAX_PATH_LENGTH} characters`);
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    throw new HttpError(400, 'BAD_PATH', 'the path is not valid percent-encoding');
  }
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused here
  if (/[\u0000-\u001f\u007f]/.test(decoded)) throw new HttpError(400, 'BAD_PATH', 'the path holds a control character');
  return decoded === '/' ? 'index.html' : decoded.replace(/^\/+/, '');
}

export class StaticFiles {
  private readonly root: string;

  constructor(
    folder: string,
    /** Headers for HTML pages (the CSP names the server's own address). */
    private readonly htmlHeaders: () => Record<string, string>,
  ) {
    this.root = resolve(folder);
  }

  async serve(pathname: string, res: ServerResponse, extraHeaders: Record<string, string> = {}): Promise<void> {
    const file = resolve(this.root, normalize(staticRelativePath(pathname)));
    if (file !== this.root && !file.startsWith(this.root + sep)) throw new HttpError(404, 'NOT_FOUND', 'not found');
    let body: Buffer;
    try {
      body = await readFile(file);
    } catch (error) {
      // Missing is a 404; anything else (permissions, too many open files) is the server's fault.
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR' || code === 'ENAMETOOLONG')
        throw new HttpError(404, 'NOT_FOUND', 'not found');
      throw error;
    }
    const type = CONTENT_TYPES[extname(file)] ?? 'application/octet-stream';
    res.writeHead(200, {
      ...extraHeaders,
      'Content-Type': type,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cross-Origin-Opener-Policy': 'same-origin',
      ...(type.startsWith('text/html') ? { ...this.htmlHeaders(), 'Cache-Control': 'no-store' } : {}),
    });
    res.end(body);
  }
}

export function staticDirFrom(fromUrl: string): string {
  // out/main/<chunk>.js -> out/renderer; src-main/server/*.ts -> out/renderer
  return fromUrl.endsWith('.ts')
    ? resolve(new URL('../../out/renderer', fromUrl).pathname)
    : join(new URL('../renderer', fromUrl).pathname);
}
