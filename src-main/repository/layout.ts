/**
 * The model repository on disk, in Triton's layout:
 *
 *   <repository>/<model>/config.json          optional serving config and version policy
 *   <repository>/<model>/<version>/model.onnx  version: a positive integer folder
 *
 * Publishing convention: write the file somewhere else on the same filesystem (or into
 * a hidden folder such as `<model>/.tmp-7/`), then rename it into place; a rename is
 * atomic. Optionally touch `<version>/READY` after the model is in place to skip the
 * wait for a stable size and mtime. Anything half-written stays "pending": a version is
 * validated only once its file stopped changing (or carries READY).
 *
 * Paths are always built here from a validated model name and version number; a path
 * never comes from a message or a request.
 */
import { MODEL_NAME_PATTERN, RANGES } from '../../src-preload/limits.js';
import type { Dirent } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { EngineError } from '../engine/errors.js';

export const MODEL_FILE = 'model.onnx';
export const READY_MARKER = 'READY';
export const CONFIG_FILE = 'config.json';

/** Same rule as engine model names: no separators, no leading dot, so never a path escape. */
export { MODEL_NAME_PATTERN };
const VERSION_PATTERN = /^[1-9][0-9]{0,8}$/;

export interface VersionEntry {
  readonly version: number;
  readonly sizeBytes: number;
  readonly mtimeMs: number;
  readonly ready: boolean;
}

export interface ModelEntry {
  readonly name: string;
  readonly hasConfig: boolean;
  readonly versions: VersionEntry[];
}

/** A model name, version or repository folder that is not a place the repository may use. */
export class RepositoryPathError extends EngineError {
  readonly code = 'REPOSITORY_PATH';
}

function inside(root: string, path: string): string {
  const base = resolve(root);
  const full = resolve(path);
  if (full !== base && !full.startsWith(base + sep)) throw new RepositoryPathError(`${full} is outside the repository ${base}`);
  return full;
}

export function modelDir(root: string, model: string): string {
  if (!MODEL_NAME_PATTERN.test(model)) throw new RepositoryPathError(`invalid model name "${model}"`);
  return inside(root, join(root, model));
}

export function versionDir(root: string, model: string, version: number): string {
  if (!Number.isInteger(version) || version < RANGES.modelVersion.min || version > RANGES.modelVersion.max)
    throw new RepositoryPathError(`invalid version ${version}`);
  return inside(root, join(modelDir(root, model), String(version)));
}

export function modelFilePath(root: string, model: string, version: number): string {
  return join(versionDir(root, model, version), MODEL_FILE);
}

export function configFilePath(root: string, model: string): string {
  return join(modelDir(root, model), CONFIG_FILE);
}

async function entries(dir: string): Promise<Dirent[]> {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (error) {
    // A folder removed between listing and reading is simply gone.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** One version as a scan lists it, or null when it is not (or no longer) a version folder holding a model file. */
export async function scanVersion(root: string, model: string, version: number): Promise<VersionEntry | null> {
  if (!(await isDirectory(versionDir(root, model, version)))) return null; // gone, or a symlink (never followed)
  const files = await entries(versionDir(root, model, version));
  if (!files.some((f) => f.name === MODEL_FILE && f.isFile())) return null;
  try {
    const stat = await lstat(modelFilePath(root, model, version));
    return { version, sizeBytes: stat.size, mtimeMs: stat.mtimeMs, ready: files.some((f) => f.name === READY_MARKER) };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    return null; // removed between the listing and the stat
  }
}

/** One model's versions and whether it has config.json, or null when its folder is gone (or is not a model's). */
export async function scanModel(root: string, model: string): Promise<ModelEntry | null> {
  if (!MODEL_NAME_PATTERN.test(model) || !(await isDirectory(modelDir(root, model)))) return null; // gone, or a symlink
  const children = await entries(modelDir(root, model));
  const versions: VersionEntry[] = [];
  for (const child of children) {
    if (!child.isDirectory() || !VERSION_PATTERN.test(child.name)) continue;
    const entry = await scanVersion(root, model, Number(child.name));
    if (entry) versions.push(entry);
  }
  versions.sort((a, b) => a.version - b.version);
  return { name: model, hasConfig: children.some((c) => c.name === CONFIG_FILE && c.isFile()), versions };
}

/** A real folder: lstat, so a symlink to one is not. */
async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await lstat(path)).isDirectory();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/** What a path inside the repository names: a model folder, its config.json, a version (anything inside it), or nothing of ours. */
export function classifyPath(
  root: string,
  path: string,
):
  | { kind: 'model'; model: string }
  | { kind: 'config'; model: string }
  | { kind: 'version'; model: string; version: number }
  | { kind: 'other' } {
  const base = resolve(root);
  const full = resolve(path);
  if (!full.startsWith(base + sep)) return { kind: 'other' };
  const [model, second] = full.slice(base.length + 1).split(sep);
  if (model === undefined || !MODEL_NAME_PATTERN.test(model)) return { kind: 'other' }; // dot folders: trash, uploads, checkpoints
  if (second === undefined) return { kind: 'model', model };
  if (second === CONFIG_FILE) return { kind: 'config', model };
  if (VERSION_PATTERN.test(second)) return { kind: 'version', model, version: Number(second) };
  return { kind: 'other' }; // staging folders and the like: their rename into place is the event that counts
}

/** The names of the repository's model folders (symlinks and dot folders are not models). */
export async function listModelNames(root: string): Promise<string[]> {
  return (await entries(root)).filter((e) => e.isDirectory() && MODEL_NAME_PATTERN.test(e.name)).map((e) => e.name);
}

/** The version numbers a model's folder lists (real folders only), without looking inside any. */
export async function listVersionNumbers(root: string, model: string): Promise<Set<number>> {
  const names = (await entries(modelDir(root, model))).filter((e) => e.isDirectory() && VERSION_PATTERN.test(e.name));
  return new Set(names.map((e) => Number(e.name)));
}

/** List models and versions. Symbolic links are ignored so nothing outside the root is read. */
export async function scanRepository(root: string): Promise<ModelEntry[]> {
  const models: ModelEntry[] = [];
  for (const modelEntry of await entries(root)) {
    if (!modelEntry.isDirectory() || !MODEL_NAME_PATTERN.test(modelEntry.name)) continue;
    const model = await scanModel(root, modelEntry.name);
    if (model) models.push(model);
  }
  return models.sort((a, b) => a.name.localeCompare(b.name));
}
