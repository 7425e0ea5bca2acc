/**
 * Publishing into a model repository the documented way (see layout.ts): write into a
 * hidden staging folder next to the target, then rename it into place, so the updater
 * never sees a half-written version. Used by the demo, the learner and the tests.
 */
import { link, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { configFilePath, MODEL_FILE, READY_MARKER, modelDir, scanRepository, versionDir } from './layout.js';

export async function publishModel(root: string, model: string, version: number, bytes: Uint8Array): Promise<void> {
  const target = versionDir(root, model, version);
  const staging = join(modelDir(root, model), `.staging-${version}-${process.pid}`);
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  await writeFile(join(staging, MODEL_FILE), bytes, { mode: 0o644 });
  await writeFile(join(staging, READY_MARKER), '');
  await rename(staging, target);
}

/**
 * Write a model's config.json unless it has one: written aside, then linked into place,
 * which fails if a file is there already (an operator's settings are never overwritten) and
 * never shows a half-written file. Returns whether it was written.
 */
export async function writeConfigIfAbsent(root: string, model: string, config: unknown): Promise<boolean> {
  const target = configFilePath(root, model);
  const staging = join(modelDir(root, model), `.config-${process.pid}.json`);
  await mkdir(modelDir(root, model), { recursive: true });
  await writeFile(staging, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o644 });
  try {
    await link(staging, target);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await rm(staging, { force: true });
  }
}

export async function repositoryHasVersions(root: string): Promise<boolean> {
  return (await scanRepository(root)).some((m) => m.versions.length > 0);
}
