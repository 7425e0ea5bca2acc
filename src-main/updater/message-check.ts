/**
 * Checks a message from the updater field by field. One bad model or version (a tensor
 * name past the limit, a config.json error too long, a broken verdict) must not cost
 * the rest of the message: what is wrong marks that model (its config unreadable, so
 * nothing is swapped for it) or that version (invalid, with the reason), and everything
 * else applies. Used on both sides: the updater repairs what it sends, and the host
 * repairs what it receives, since the updater parses untrusted files.
 */
import { z } from 'zod';
import {
  LIMITS,
  ModelNameSchema,
  ModelViewSchema,
  ToHostSchema,
  VersionNumberSchema,
  VersionViewSchema,
  type ModelView,
  type ToHost,
  type VersionView,
} from './protocol.js';

export type CheckedMessage =
  | { readonly ok: true; readonly message: ToHost; /** What was repaired, for a warning. */ readonly repairs: string[] }
  | { readonly ok: false; readonly error: string };

/** Cut a text to `limit` characters, saying how much was cut, so a long reason is shortened rather than refused. */
export function truncateForReport(text: string, limit: number): string {
  if (text.length <= limit) return text;
  const note = ` ... (${text.length - limit} more characters)`;
  return text.slice(0, Math.max(0, limit - note.length)) + note;
}

function problem(error: z.ZodError): string {
  return truncateForReport(z.prettifyError(error).replaceAll('\n', ' '), 500);
}

function record(raw: unknown): Record<string, unknown> | undefined {
  return typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as Record<string, unknown>) : undefined;
}

/** A version the report of which broke the protocol: invalid, with the reason. Undefined when not even its number can be read. */
function repairVersion(raw: unknown, model: string, repairs: string[]): VersionView | undefined {
  const parsed = VersionViewSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const version = VersionNumberSchema.safeParse(record(raw)?.version);
  if (!version.success) {
    repairs.push(`model "${model}": a version without a readable number was left out`);
    return undefined;
  }
  const reason = truncateForReport(`the updater's report of this version broke the protocol: ${problem(parsed.error)}`, LIMITS.reason);
  repairs.push(`model "${model}" version ${version.data}: ${reason}`);
  return {
    version: version.data,
    state: 'invalid',
    reason,
    sha256: null,
    sizeBytes: 0,
    mtimeMs: 0,
    signature: null,
    timings: null,
    batching: null,
  };
}

/** A model's config that cannot be reported counts as an unreadable config.json: what is served stays. */
function repairConfig(fields: Record<string, unknown>, model: string, repairs: string[]): { config: unknown; configError: string | null } {
  const parsed = ModelViewSchema.pick({ config: true, configError: true }).safeParse({
    config: fields.config,
    configError: fields.configError,
  });
  if (parsed.success) return { config: parsed.data.config ?? null, configError: parsed.data.configError };
  const configError = truncateForReport(`config.json could not be reported: ${problem(parsed.error)}`, LIMITS.configError);
  repairs.push(`model "${model}": ${configError}`);
  return { config: null, configError };
}

function repairModel(raw: unknown, repairs: string[]): ModelView | undefined {
  const parsed = ModelViewSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const fields = record(raw);
  const name = ModelNameSchema.safeParse(fields?.name);
  if (!fields || !name.success) {
    repairs.push('a model without a valid name was left out');
    return undefined;
  }
  const list = Array.isArray(fields.versions) ? fields.versions.slice(0, LIMITS.versionsPerModel) : [];
  const versions = list.map((v) => repairVersion(v, name.data, repairs)).filter((v): v is VersionView => v !== undefined);
  return { name: name.data, ...repairConfig(fields, name.data, repairs), versions };
}

export function checkToHost(raw: unknown): CheckedMessage {
  const parsed = ToHostSchema.safeParse(raw);
  if (parsed.success) return { ok: true, message: parsed.data, repairs: [] };
  const fields = record(raw);
  const repairs: string[] = [];
  if (fields?.type === 'repository' && Array.isArray(fields.models)) {
    const models = fields.models
      .slice(0, LIMITS.models)
      .map((m) => repairModel(m, repairs))
      .filter((m): m is ModelView => m !== undefined);
    return { ok: true, message: { type: 'repository', models }, repairs };
  }
  const model = ModelNameSchema.safeParse(fields?.model ?? fields?.name);
  if (fields && model.success) {
    if (fields.type === 'version') {
      const version = repairVersion(fields.version, model.data, repairs);
      if (version) return { ok: true, message: { type: 'version', model: model.data, version }, repairs };
    } else if (fields.type === 'model') {
      return { ok: true, message: { type: 'model', name: model.data, ...repairConfig(fields, model.data, repairs) }, repairs };
    }
  }
  if (fields?.type === 'log' && typeof fields.message === 'string' && ['info', 'warn', 'error'].includes(fields.level as string)) {
    const message = truncateForReport(fields.message, LIMITS.log);
    return {
      ok: true,
      message: { type: 'log', level: fields.level as 'info' | 'warn' | 'error', message },
      repairs: ['a long log line was shortened'],
    };
  }
  return { ok: false, error: problem(parsed.error) };
}
