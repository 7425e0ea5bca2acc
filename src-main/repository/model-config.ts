/**
 * `<repository>/<model>/config.json`: the model's serving settings (batching, queue,
 * rate limits, workers, checkFinite) plus its version policy. Validated with the same
 * schema on both sides of the updater boundary; an unknown key is an error.
 */
import { z } from 'zod';
import { ModelServingConfigSchema, type ModelServingConfigInput } from '../engine/config.js';

/** Keep the newest N valid versions in the repository (and those served or pinned); absent: keep every version. */
const Retain = z.number().int().min(1).max(100_000).optional();

export const VersionPolicySchema = z.discriminatedUnion('kind', [
  /** Serve the newest valid version; keep the `keepWarm` most recent ones loaded for instant rollback. */
  z.strictObject({ kind: z.literal('latest'), keepWarm: z.number().int().min(1).max(8).default(1), retain: Retain }),
  /** Serve exactly this version. */
  z.strictObject({
    kind: z.literal('pinned'),
    version: z.number().int().min(1),
    keepWarm: z.number().int().min(1).max(8).default(1),
    retain: Retain,
  }),
]);

export const RepositoryModelConfigSchema = ModelServingConfigSchema.extend({
  versionPolicy: VersionPolicySchema.prefault({ kind: 'latest' }),
}).strict();

export type VersionPolicy = z.infer<typeof VersionPolicySchema>;
export type RepositoryModelConfig = z.infer<typeof RepositoryModelConfigSchema>;

export function parseModelConfig(input: unknown): { config: RepositoryModelConfig; error: null } | { config: null; error: string } {
  const result = RepositoryModelConfigSchema.safeParse(input ?? {});
  return result.success ? { config: result.data, error: null } : { config: null, error: z.prettifyError(result.error) };
}

/** config.json over the defaults, section by section (a file that sets one batching key keeps the other defaults). */
export function withDefaults(defaults: ModelServingConfigInput, file: unknown): unknown {
  if (typeof file !== 'object' || file === null || Array.isArray(file)) return file ?? defaults;
  const merged: Record<string, unknown> = { ...defaults };
  for (const [key, value] of Object.entries(file)) {
    const base = merged[key];
    merged[key] =
      typeof base === 'object' && base !== null && typeof value === 'object' && value !== null && !Array.isArray(value)
        ? { ...base, ...(value as Record<string, unknown>) }
        : value;
  }
  return merged;
}
