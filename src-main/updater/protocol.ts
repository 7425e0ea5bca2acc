/**
 * Messages between the engine's host process and the updater process, as zod schemas.
 * Both directions are validated on receipt: the updater parses untrusted files, so a
 * message from it is data to check, never to trust; an invalid message is logged and
 * dropped.
 */
import { MODEL_NAME_PATTERN, RANGES } from '../../src-preload/limits.js';
import { DTYPES, type DType } from '../engine/dtypes.js';
import { z } from 'zod';

export const PROTOCOL_VERSION = 1;

/**
 * What one message may carry, sized for real repositories: exported graphs have tensor
 * names of hundreds of characters and models with hundreds of inputs (a decoder's cache).
 * Texts past their limit are shortened with a note (truncateForReport), never refused.
 */
export const LIMITS = {
  tensorName: 4096,
  symbolicDim: 1024,
  rank: 64,
  tensorsPerSide: 4096,
  reason: 4096,
  configError: 8192,
  log: 8192,
  versionsPerModel: 100_000,
  models: 10_000,
} as const;

const DimSchema = z.union([z.number().int(), z.string().max(LIMITS.symbolicDim)]);
const TensorSpecSchema = z.strictObject({
  name: z.string().max(LIMITS.tensorName),
  dtype: z.enum(DTYPES as [DType, ...DType[]]),
  shape: z.array(DimSchema).max(LIMITS.rank).readonly(),
});
export const SignatureSchema = z.strictObject({
  inputs: z.array(TensorSpecSchema).max(LIMITS.tensorsPerSide).readonly(),
  outputs: z.array(TensorSpecSchema).max(LIMITS.tensorsPerSide).readonly(),
});

export const ModelNameSchema = z.string().regex(MODEL_NAME_PATTERN);
export const VersionNumberSchema = z.number().int().min(RANGES.modelVersion.min).max(RANGES.modelVersion.max);
const ModelName = ModelNameSchema;
const Version = VersionNumberSchema;

/** Infinity does not survive JSON: a difference too large to measure is sent as null. */
const Difference = z.number().nonnegative().nullable();

export const ProbeEvidenceSchema = z.strictObject({
  rows: z.number().int().min(0).max(1024),
  rowsIndependent: z.boolean(),
  exact: z.boolean(),
  maxAbsDiff: Difference,
  tolerance: z.strictObject({ absolute: z.number().nonnegative(), relative: z.number().nonnegative() }),
  difference: z.string().max(LIMITS.reason).nullable(),
  error: z.string().max(LIMITS.reason).nullable(),
});

export const VersionStateSchema = z.enum(['pending', 'validating', 'valid', 'invalid']);

export const VersionViewSchema = z.strictObject({
  version: Version,
  state: VersionStateSchema,
  reason: z.string().max(LIMITS.reason).nullable(),
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .nullable(),
  sizeBytes: z.number().int().min(0),
  mtimeMs: z.number(),
  signature: SignatureSchema.nullable(),
  timings: z.strictObject({ hashMs: z.number(), loadMs: z.number(), warmupMs: z.number() }).nullable(),
  /** The batching probe's evidence (null: not probed, the shapes rule batching out). */
  batching: ProbeEvidenceSchema.nullable(),
});

export const ModelViewSchema = z.strictObject({
  name: ModelName,
  /** config.json as read (validated again by the host), or null when absent. */
  config: z.unknown().nullable(),
  configError: z.string().max(LIMITS.configError).nullable(),
  versions: z.array(VersionViewSchema).max(LIMITS.versionsPerModel),
});

export const ToHostSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('ready'), pid: z.number().int(), protocol: z.literal(PROTOCOL_VERSION) }),
  z.strictObject({
    type: z.literal('heartbeat'),
    seq: z.number().int(),
    sentAtMs: z.number(),
    validating: z.boolean(),
    /** The updater's CPU time so far (all its threads) and resident memory: the dashboard's process table. */
    cpuMs: z.number().nonnegative(),
    rssBytes: z.number().int().nonnegative(),
  }),
  /** The whole repository: after "ready" and after a rescan request. */
  z.strictObject({ type: z.literal('repository'), models: z.array(ModelViewSchema).max(LIMITS.models) }),
  /** A model appeared or its config.json changed. */
  z.strictObject({
    type: z.literal('model'),
    name: ModelName,
    config: z.unknown().nullable(),
    configError: z.string().max(LIMITS.configError).nullable(),
  }),
  z.strictObject({ type: z.literal('model-removed'), name: ModelName }),
  /** One version changed (seen, validating, verdict). */
  z.strictObject({ type: z.literal('version'), model: ModelName, version: VersionViewSchema }),
  z.strictObject({ type: z.literal('version-removed'), model: ModelName, version: Version }),
  z.strictObject({ type: z.literal('log'), level: z.enum(['info', 'warn', 'error']), message: z.string().max(LIMITS.log) }),
]);

export const ToUpdaterSchema = z.discriminatedUnion('type', [
  /** The engine activated this version: later versions are checked for compatibility with it. */
  z.strictObject({
    type: z.literal('active'),
    model: ModelName,
    version: Version,
    signature: SignatureSchema,
    /** Every version the engine holds for the model (active, warm, draining): retention never moves one. */
    loaded: z.array(Version).max(64).optional(),
  }),
  /** Accept a breaking signature change for this version. */
  z.strictObject({ type: z.literal('force'), model: ModelName, version: Version }),
  /** Scan now; with `revalidate`, forget earlier verdicts. */
  z.strictObject({ type: z.literal('rescan'), revalidate: z.boolean() }),
  /** Chaos drills and tests (honoured only when the updater runs with allowDebug). */
  z.strictObject({ type: z.literal('debug'), action: z.enum(['hang', 'crash']) }),
  z.strictObject({ type: z.literal('shutdown') }),
]);

export type ToHost = z.infer<typeof ToHostSchema>;
export type ToUpdater = z.infer<typeof ToUpdaterSchema>;
export type VersionView = z.infer<typeof VersionViewSchema>;
export type ModelView = z.infer<typeof ModelViewSchema>;
export type VersionState = z.infer<typeof VersionStateSchema>;

/** The largest model file a version may be, unless the host says otherwise: validated past it is invalid, and uploads stop at it. */
export const DEFAULT_MAX_MODEL_BYTES = 2 * 1024 ** 3;

/** Settings the host hands the updater at launch (environment variable SWITCHBOARD_UPDATER). */
export const UpdaterSettingsSchema = z.strictObject({
  repository: z.string().min(1),
  /** How often versions still settling are looked at again (the settle rule's clock). */
  scanIntervalMs: z.number().int().min(10).max(600_000).default(500),
  /** How often the whole repository is read again, for changes a filesystem sent no event for (network filesystems). */
  fullScanIntervalMs: z.number().int().min(1000).max(86_400_000).default(60_000),
  /** A file must keep the same size and mtime this long before it is validated (unless READY is present). */
  settleMs: z.number().int().min(0).max(600_000).default(1000),
  maxModelBytes: z.number().int().min(1).default(DEFAULT_MAX_MODEL_BYTES),
  heartbeatIntervalMs: z.number().int().min(10).max(60_000).default(1000),
  validationTimeoutMs: z.number().int().min(100).max(3_600_000).default(120_000),
  /** Tests only: hold each verdict this long, so a test can act while a version is "validating". */
  validationDelayMs: z.number().int().min(0).max(600_000).default(0),
  allowDebug: z.boolean().default(false),
  /** Retired versions stay in the repository's trash this long before they are deleted (see retention.ts). */
  trashMaxAgeMs: z
    .number()
    .int()
    .min(0)
    .max(365 * 86_400_000)
    .default(86_400_000),
  /** The host's serving settings for models whose config.json leaves them out: validation sizes what serving a version costs with them. */
  servingDefaults: z.record(z.string(), z.unknown()).default({}),
});
export type UpdaterSettings = z.infer<typeof UpdaterSettingsSchema>;
export type UpdaterSettingsInput = z.input<typeof UpdaterSettingsSchema>;
export const SETTINGS_ENV = 'SWITCHBOARD_UPDATER';
