/**
 * The one typed contract for everything that crosses between the engine's host and a
 * dashboard: commands (each with a schema and a typed result or error), telemetry
 * snapshots and events. The Electron IPC channel and the headless WebSocket carry the
 * same messages, validated with these schemas on the receiving side.
 */
import { z } from 'zod';
import { SNAPSHOT_TAKEN } from './channels.js';
import { MODEL_NAME_PATTERN, RANGES, type IntRange } from './limits.js';
import type { CommandResults, DashboardSnapshot, EngineEvent } from './wire.js';

// Ranges shared with the engine's config schema (limits.ts): a command cannot ask for what config.json could not hold.
const ranged = (range: IntRange) => z.number().int().min(range.min).max(range.max);
const Model = z.string().regex(MODEL_NAME_PATTERN);
const Version = ranged(RANGES.modelVersion);
const ExportItems = z
  .number()
  .int()
  .min(1)
  .max(2 ** 28);

/** Every command the dashboard can send, with its arguments. */
export const CommandSchemas = {
  'queue.pause': z.strictObject({ model: Model }),
  'queue.resume': z.strictObject({ model: Model }),
  'queue.drain': z.strictObject({ model: Model }),
  'queue.configure': z.strictObject({
    model: Model,
    capacity: ranged(RANGES.queueCapacity).optional(),
    fullPolicy: z.enum(['reject', 'wait']).optional(),
    fullWaitTimeoutMs: ranged(RANGES.fullWaitTimeoutMs).optional(),
    queueTimeoutMs: ranged(RANGES.queueTimeoutMs).optional(),
  }),
  'batching.configure': z.strictObject({
    model: Model,
    maxBatchSize: ranged(RANGES.maxBatchSize).optional(),
    maxQueueDelayUs: ranged(RANGES.maxQueueDelayUs).optional(),
  }),
  'workers.resize': z.strictObject({ model: Model, count: ranged(RANGES.workerCount) }),
  'updater.restart': z.strictObject({}),
  'model.activate': z.strictObject({ model: Model, version: Version }),
  'model.followLatest': z.strictObject({ model: Model }),
  'model.reload': z.strictObject({ model: Model }),
  // The desktop app's "add a model": the main process asks for the file in a dialog (the renderer never names a path).
  'model.add': z.strictObject({ model: Model }),
  // config.json's contents; the host checks them with config.json's own schema before anything changes.
  'model.configure': z.strictObject({ model: Model, config: z.record(z.string(), z.unknown()) }),
  'experience.configure': z.strictObject({
    sampler: z.enum(['uniform', 'prioritized', 'fifo']).optional(),
    alpha: z.number().min(0).max(1).optional(),
    beta: z.number().min(0).max(1).optional(),
    maxTimesSampled: z.number().int().min(0).max(1_000_000).optional(),
    batchSize: z.number().int().min(1).max(65_536).optional(),
    samplesPerInsert: z.number().positive().max(1000).optional(),
    minSize: z
      .number()
      .int()
      .min(1)
      .max(2 ** 28)
      .optional(),
  }),
  'experience.checkpoint': z.strictObject({}),
  'experience.export': z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('all') }),
    z.strictObject({ kind: z.literal('newest'), items: ExportItems }),
    z.strictObject({ kind: z.literal('sample'), items: ExportItems }),
  ]),
  // The confirmation is part of the message, so no client clears the buffer by accident.
  'experience.clear': z.strictObject({ confirm: z.literal(true) }),
} as const;

export type CommandName = keyof typeof CommandSchemas;
export type CommandArgs<C extends CommandName> = z.infer<(typeof CommandSchemas)[C]>;
export const COMMAND_NAMES = Object.keys(CommandSchemas) as CommandName[];

export const CommandRequestSchema = z.strictObject({
  id: z.number().int().min(0),
  command: z.enum(COMMAND_NAMES as [CommandName, ...CommandName[]]),
  args: z.unknown(),
});
export type CommandRequest = z.infer<typeof CommandRequestSchema>;

export interface CommandError {
  code: string;
  message: string;
}

/** A command's answer: its typed result (wire.ts's CommandResults), or a typed error. */
export type CommandReply<C extends CommandName = CommandName> =
  { id: number; ok: true; result: CommandResults[C] } | { id: number; ok: false; error: CommandError };

/** The WebSocket's snapshot acknowledgement (see SNAPSHOT_TAKEN). */
export const SnapshotTakenSchema = z.strictObject({ type: z.literal(SNAPSHOT_TAKEN.type) });

/** Messages a dashboard receives (over the WebSocket; IPC uses one channel per kind). */
export type ServerMessage<Snapshot = DashboardSnapshot, Event = EngineEvent> =
  { type: 'snapshot'; snapshot: Snapshot } | { type: 'event'; event: Event } | { type: 'reply'; reply: CommandReply };

export { IPC, SNAPSHOT_TAKEN } from './channels.js';

/** Validate a command's arguments; returns the parsed arguments or a typed error. */
export function parseCommand(name: CommandName, args: unknown): { ok: true; args: unknown } | { ok: false; error: CommandError } {
  const result = CommandSchemas[name].safeParse(args ?? {});
  if (result.success) return { ok: true, args: result.data };
  return { ok: false, error: { code: 'INVALID_COMMAND', message: `${name}: ${z.prettifyError(result.error)}` } };
}
