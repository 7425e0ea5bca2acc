/**
 * The built dashboard's files, read-only, from one folder and nothing outside it (see
 * fileInside: a path that no file can have is a 400, one outside the folder a 404).
 */
import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { extname, join, resolve } from 'node:path';
import { HttpError } from './http-basics.js';
import { BadPathError, fileInside } from '../util/static-path.js';

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
    let file: string | undefined;
    try {
      file = fileInside(this.root, pathname);
    } catch (error) {
      if (error instanceof BadPathError) throw new HttpError(400, 'BAD_PATH', error.message);
      throw error;
    }
    if (file === undefined) throw new HttpError(404, 'NOT_FOUND', 'not found');
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

/** The built dashboard's folder, from the URL of the module asking (sources or bundle). */
export function defaultStaticDir(fromUrl: string): string {
  // out/main/<chunk>.js -> out/renderer; src-main/server/*.ts -> out/renderer
  return fromUrl.endsWith('.ts')
    ? resolve(new URL('../../out/renderer', fromUrl).pathname)
    : join(new URL('../renderer', fromUrl).pathname);
}
