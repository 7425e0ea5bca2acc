/**
 * Retention: a model whose version policy sets `retain: N` keeps its newest N valid
 * versions, and every version the engine holds (the active one and those kept warm) or the
 * policy pins. Older versions whose verdict is in (valid or invalid) move into the
 * repository's trash, `<repository>/.trash/<model>/<version>-<epoch ms>` (a dot folder, so
 * never taken for a model), by a rename on the same filesystem; a version still pending or
 * validating is never moved. The trash is emptied of what has been in it longer than the
 * updater's `trashMaxAgeMs` (a day by default), so that an operator can still take back a
 * version retired by mistake. Newer invalid versions than the N valid ones stay: they are
 * the latest news about the model.
 */
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { modelDir, versionDir } from '../repository/layout.js';
import type { VersionState } from './protocol.js';

export const TRASH_FOLDER = '.trash';

/** The most versions a policy keeps warm (model-config.ts). */
const MAX_KEEP_WARM = 8;

/** What the engine holds per model, as the host reports it with each activation: retention never moves one of these. */
export class EngineHoldings {
  /** Per model, the versions made active, most recent first: the engine keeps the first keepWarm of them loaded. */
  private readonly recentlyActive = new Map<string, number[]>();
  /** Per model, the versions the engine said it holds. */
  private readonly loaded = new Map<string, Set<number>>();

  activated(model: string, version: number, loaded: readonly number[]): void {
    this.loaded.set(model, new Set([version, ...loaded]));
    const recent = this.recentlyActive.get(model) ?? [];
    // As the engine's version table keeps them (version-table.ts), up to the most keepWarm allows.
    this.recentlyActive.set(model, [version, ...recent.filter((v) => v !== version)].slice(0, MAX_KEEP_WARM));
  }

  /** The versions to keep for the model, or undefined while the host has not said what the engine holds. */
  kept(model: string, keepWarm: number): Set<number> | undefined {
    const loaded = this.loaded.get(model);
    if (!loaded) return undefined;
    return new Set([...(this.recentlyActive.get(model) ?? []).slice(0, keepWarm), ...loaded]);
  }
}

/** The versions retention moves out now, oldest first. */
export function versionsToRetire(
  versions: readonly { readonly version: number; readonly state: VersionState }[],
  retain: number,
  kept: ReadonlySet<number>,
): number[] {
  const valid = versions
    .filter((v) => v.state === 'valid')
    .map((v) => v.version)
    .sort((a, b) => b - a);
  if (valid.length <= retain) return [];
  const oldestRetained = valid[retain - 1]!;
  return versions
    .filter((v) => v.version < oldestRetained && (v.state === 'valid' || v.state === 'invalid') && !kept.has(v.version))
    .map((v) => v.version)
    .sort((a, b) => a - b);
}

function trashDir(root: string): string {
  return join(root, TRASH_FOLDER);
}

/** Move one version folder into the trash; returns where it went. */
export async function moveToTrash(root: string, model: string, version: number, nowMs: number): Promise<string> {
  const source = versionDir(root, model, version);
  const folder = join(trashDir(root), model);
  modelDir(root, model); // the name was checked by versionDir; this keeps the trash's layout on the same rule
  await mkdir(folder, { recursive: true });
  const target = join(folder, `${version}-${nowMs}`);
  await rename(source, target);
  return target;
}

/** Remove what has been in the trash longer than `maxAgeMs`; returns how many versions went. */
export async function emptyTrash(root: string, maxAgeMs: number, nowMs: number): Promise<number> {
  let removed = 0;
  for (const model of await listDirs(trashDir(root))) {
    const folder = join(trashDir(root), model);
    for (const entry of await listDirs(folder)) {
      const retiredAt = Number(/^\d+-(\d+)$/.exec(entry)?.[1]);
      if (!Number.isFinite(retiredAt) || nowMs - retiredAt < maxAgeMs) continue; // not ours, or not old enough
      await rm(join(folder, entry), { recursive: true, force: true });
      removed++;
    }
  }
  return removed;
}

async function listDirs(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return []; // no trash yet
    throw error;
  }
}
