/** The Models page's settings form as config.json: which fields it has, and the file a draft makes. */
import type { RepositorySnapshot } from '../../src-preload/wire.js';

export type ModelSnapshot = RepositorySnapshot['models'][number];
export type Settings = NonNullable<ModelSnapshot['settings']>;

export interface Field {
  readonly path: readonly [string, string];
  readonly label: string;
  readonly choices?: readonly string[];
  /** Empty means "not set" (the key is left out). */
  readonly optional?: boolean;
}

export const FIELDS: readonly Field[] = [
  { path: ['batching', 'mode'], label: 'Batching', choices: ['auto', 'dim0', 'none'] },
  { path: ['batching', 'maxBatchSize'], label: 'Max batch size' },
  { path: ['batching', 'maxQueueDelayUs'], label: 'Max queue delay (µs)' },
  { path: ['queue', 'capacity'], label: 'Queue capacity' },
  { path: ['queue', 'fullPolicy'], label: 'When full', choices: ['reject', 'wait'] },
  { path: ['queue', 'queueTimeoutMs'], label: 'Queue timeout (ms)' },
  { path: ['workers', 'count'], label: 'Workers' },
  { path: ['versionPolicy', 'kind'], label: 'Version policy', choices: ['latest', 'pinned'] },
  { path: ['versionPolicy', 'version'], label: 'Pinned version', optional: true },
  { path: ['versionPolicy', 'keepWarm'], label: 'Keep warm' },
  { path: ['versionPolicy', 'retain'], label: 'Retain versions', optional: true },
];

export const key = (f: Field) => f.path.join('.');

export function valueIn(source: unknown, [section, name]: readonly [string, string]): unknown {
  const part = typeof source === 'object' && source !== null ? (source as Record<string, unknown>)[section] : undefined;
  return typeof part === 'object' && part !== null ? (part as Record<string, unknown>)[name] : undefined;
}

/** A setting as the form shows it: the form's fields are numbers and names only. */
export function textOf(value: unknown): string {
  return typeof value === 'number' || typeof value === 'string' ? String(value) : '';
}

/** A number where the text is one; otherwise the text itself, for the schema to refuse with its reason. */
function parsed(text: string): unknown {
  return /^-?\d+(\.\d+)?$/.test(text.trim()) ? Number(text) : text;
}

/** config.json's new contents: the file as it is, with each changed field (or one it set already) as the form has it. */
export function fileFromForm(file: unknown, settings: Settings, draft: Readonly<Record<string, string>>): Record<string, unknown> {
  const out: Record<string, unknown> = structuredClone(
    typeof file === 'object' && file !== null && !Array.isArray(file) ? (file as Record<string, unknown>) : {},
  );
  for (const field of FIELDS) {
    const text = draft[key(field)] ?? '';
    const before = valueIn(settings, field.path);
    const inFile = valueIn(file, field.path) !== undefined;
    if (!inFile && text === textOf(before)) continue;
    const [section, name] = field.path;
    const target = ((out[section] as Record<string, unknown> | undefined) ??= {});
    if (text === '' && field.optional) delete target[name];
    else target[name] = field.choices ? text : parsed(text);
  }
  const policy = out.versionPolicy as Record<string, unknown> | undefined;
  // A policy written at all needs its kind; "latest" takes no version.
  if (policy) {
    policy.kind ??= settings.versionPolicy.kind;
    if (policy.kind === 'latest') delete policy.version;
  }
  return out;
}
