/**
 * What the updater keeps per model and version, and how a model's config.json is read:
 * parsed and checked with the host's schema, its error cut to what a message may carry,
 * with the file's size and time so that a look can tell a change without reading it.
 */
import { lstat, readFile } from 'node:fs/promises';
import type { ModelSignature } from '../engine/signature.js';
import { configFilePath } from '../repository/layout.js';
import { parseModelConfig } from '../repository/model-config.js';
import { truncateForReport } from './message-check.js';
import { LIMITS, type VersionState, type VersionView } from './protocol.js';

export interface TrackedVersion {
  readonly version: number;
  sizeBytes: number;
  mtimeMs: number;
  ready: boolean;
  stableSince: number;
  state: VersionState;
  reason: string | null;
  sha256: string | null;
  signature: ModelSignature | null;
  timings: VersionView['timings'];
  batching: VersionView['batching'];
}

export interface TrackedModel {
  config: unknown;
  configError: string | null;
  /** config.json's size and time when it was last read (null: there was none). */
  configStamp: string | null;
  readonly versions: Map<number, TrackedVersion>;
}

/** config.json's size and modification time, or null when there is none. */
export async function configStamp(root: string, model: string): Promise<string | null> {
  try {
    const stat = await lstat(configFilePath(root, model));
    return stat.isFile() ? `${stat.size}:${stat.mtimeMs}` : null;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

export async function readModelConfig(
  root: string,
  model: string,
  exists: boolean,
): Promise<{ config: unknown; configError: string | null; stamp: string | null }> {
  const stamp = exists ? await configStamp(root, model) : null;
  let config: unknown = null;
  let configError: string | null = null;
  if (exists) {
    try {
      config = JSON.parse(await readFile(configFilePath(root, model), 'utf8')) as unknown;
      const parsed = parseModelConfig(config);
      if (parsed.error !== null) configError = parsed.error;
    } catch (error) {
      configError = `config.json: ${(error as Error).message}`;
      config = null;
    }
  }
  return { config, configError: configError === null ? null : truncateForReport(configError, LIMITS.configError), stamp };
}

export function versionView(v: TrackedVersion): VersionView {
  return {
    version: v.version,
    state: v.state,
    reason: v.reason,
    sha256: v.sha256,
    sizeBytes: v.sizeBytes,
    mtimeMs: v.mtimeMs,
    signature: v.signature,
    timings: v.timings,
    batching: v.batching,
  };
}
