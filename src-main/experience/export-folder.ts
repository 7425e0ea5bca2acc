/**
 * The one place exports of the experience buffer are written to. Without a folder of the
 * user's choosing it is a fresh folder only this user can enter (mkdtemp makes it 0700),
 * never a fixed shared path in the temp directory that another user could have created
 * first. It keeps the newest `keep` exports: the oldest are removed after each write.
 */
import { mkdir, mkdtemp, readdir, stat, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Exports kept in the folder at most (documented in the README). */
export const EXPORTS_KEPT = 20;
const EXPORT_FILE = /^experience-.*\.npz$/;

export class ExportFolder {
  private dir: Promise<string> | undefined;

  constructor(
    /** A folder to use as it is (created 0700 when missing); undefined: a private temporary one. */
    private readonly chosen: string | undefined,
    private readonly keep = EXPORTS_KEPT,
  ) {}

  /** Write `bytes` under `name` (made by the caller, never taken from a request); returns the path. */
  async write(name: string, bytes: Uint8Array): Promise<string> {
    const dir = await this.folder();
    const path = join(dir, name);
    await writeFile(path, bytes, { flag: 'wx', mode: 0o600 });
    await this.prune(dir);
    return path;
  }

  private folder(): Promise<string> {
    this.dir ??= this.chosen
      ? mkdir(this.chosen, { recursive: true, mode: 0o700 }).then(() => this.chosen!)
      : mkdtemp(join(tmpdir(), 'switchboard-exports-'));
    return this.dir;
  }

  /** Oldest first by modification time, then name: only files that look like exports are ever removed. */
  private async prune(dir: string): Promise<void> {
    const names = (await readdir(dir)).filter((name) => EXPORT_FILE.test(name));
    if (names.length <= this.keep) return;
    const dated = await Promise.all(names.map(async (name) => ({ name, mtimeMs: (await stat(join(dir, name))).mtimeMs })));
    dated.sort((a, b) => a.mtimeMs - b.mtimeMs || a.name.localeCompare(b.name));
    for (const old of dated.slice(0, dated.length - this.keep)) await unlink(join(dir, old.name));
  }
}
