/**
 * What a client may name: a region (the name requests refer to) and a key (the POSIX
 * shared-memory object behind it, as shm_open takes it). A key is checked as text before
 * anything is opened: it can only name a file directly inside the shared-memory folder,
 * never a path elsewhere, and the rules are the same for both protocols.
 */
import { join } from 'node:path';
import { ProtocolError } from '../protocol-error.js';

/** Where Linux keeps POSIX shared-memory objects (glibc's shm_open opens /dev/shm/<name>). */
export const SHM_FOLDER = '/dev/shm';

const REGION_NAME = /^[A-Za-z0-9._:-]{1,128}$/;
/** An optional leading "/" (as shm_open keys are written), then a plain file name. */
const KEY = /^\/?([A-Za-z0-9._-]{1,200})$/;

export const REGION_NAME_RULE = '1 to 128 of A-Z a-z 0-9 . _ : -';
export const KEY_RULE = 'an optional leading "/", then 1 to 200 of A-Z a-z 0-9 . _ - (no other "/", and no "..")';

export function checkRegionName(name: string): string {
  if (!REGION_NAME.test(name)) throw new ProtocolError('invalid', `region name ${quote(name)} is not ${REGION_NAME_RULE}`);
  return name;
}

/** The file a key names inside `folder`, or an "invalid" ProtocolError saying which rule it breaks. */
export function shmFileOf(key: string, folder: string = SHM_FOLDER): string {
  const match = KEY.exec(key);
  if (!match) throw new ProtocolError('invalid', `shared-memory key ${quote(key)} is not ${KEY_RULE}`);
  const name = match[1]!;
  // "." and ".." match the charset but name folders; any ".." is refused so no spelling of a parent slips by.
  if (name.includes('..') || name === '.')
    throw new ProtocolError('invalid', `shared-memory key ${quote(key)} may not hold ".." or be "."`);
  return join(folder, name);
}

/** A client's text in a message, bounded and with control characters shown escaped. */
function quote(text: string): string {
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
}
