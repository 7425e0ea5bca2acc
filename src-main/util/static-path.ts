/**
 * The rule for turning a URL path into a file of a bundle folder, shared by the dashboard
 * server and the desktop app's app:// protocol: decoded once; refused when its encoding
 * is broken, when it holds a NUL or a control character, or when it is longer than any
 * file the build makes; and never a file outside the folder.
 */
import { normalize, resolve, sep } from 'node:path';

/** No file of the build has a path near this long; the file system would refuse some paths past it anyway. */
export const MAX_PATH_LENGTH = 1024;

/** A path no file of the bundle can have (the server answers it 400). */
export class BadPathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BadPathError';
  }
}

/** The URL path as a file name relative to the folder ("/" is index.html). */
export function staticRelativePath(pathname: string): string {
  if (pathname.length > MAX_PATH_LENGTH) throw new BadPathError(`path longer than ${MAX_PATH_LENGTH} characters`);
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    throw new BadPathError('the path is not valid percent-encoding');
  }
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused here
  if (/[\u0000-\u001f\u007f]/.test(decoded)) throw new BadPathError('the path holds a control character');
  return decoded === '/' ? 'index.html' : decoded.replace(/^\/+/, '');
}

/** The file `pathname` names inside `root`, or undefined when it would lie outside; BadPathError for a path no file can have. */
export function fileInside(root: string, pathname: string): string | undefined {
  const folder = resolve(root);
  const file = resolve(folder, normalize(staticRelativePath(pathname)));
  return file === folder || file.startsWith(folder + sep) ? file : undefined;
}
