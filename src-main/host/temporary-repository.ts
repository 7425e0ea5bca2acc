/**
 * The model repository a host makes for itself when it is given none: a fresh folder in
 * the temp directory, removed when the host stops, when the process exits by a signal the
 * shell handles or by a crash ('exit' runs for both), and otherwise (SIGKILL, power loss)
 * swept by the next start: each folder names its owner's pid, and one whose owner is gone
 * is removed.
 */
import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const PREFIX = 'switchboard-repository-';
/** A dot file: the repository never takes it for a model. */
export const OWNER_FILE = '.switchboard-owner';

export interface TemporaryRepository {
  readonly path: string;
  remove(): void;
}

function ownerAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user. Only ESRCH says it is gone.
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** Remove temporary repositories of this user whose owner process is gone; returns their paths. */
export function sweepStaleRepositories(dir = tmpdir()): string[] {
  const removed: string[] = [];
  const uid = process.getuid?.();
  for (const name of readdirSync(dir)) {
    if (!name.startsWith(PREFIX)) continue;
    const path = join(dir, name);
    let pid: number;
    try {
      const info = lstatSync(path);
      if (!info.isDirectory() || (uid !== undefined && info.uid !== uid)) continue;
      pid = Number(readFileSync(join(path, OWNER_FILE), 'utf8'));
    } catch (error) {
      // No owner file: made by an older version, or being created right now. Not ours to judge.
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw error;
    }
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || ownerAlive(pid)) continue;
    rmSync(path, { recursive: true, force: true });
    removed.push(path);
  }
  return removed;
}

export function createTemporaryRepository(dir = tmpdir()): TemporaryRepository {
  sweepStaleRepositories(dir);
  const path = mkdtempSync(join(dir, PREFIX));
  writeFileSync(join(path, OWNER_FILE), String(process.pid));
  const onExit = () => rmSync(path, { recursive: true, force: true });
  process.on('exit', onExit);
  return {
    path,
    remove() {
      process.off('exit', onExit);
      onExit();
    },
  };
}
