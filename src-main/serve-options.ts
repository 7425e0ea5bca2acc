/**
 * The serve command's options: their parsers, and the serving settings they and --config
 * make together, checked before anything starts.
 */
import { readFile } from 'node:fs/promises';
import { InvalidArgumentError } from 'commander';
import { ConfigError, type ModelServingConfig, type ModelServingConfigInput } from './engine/index.js';
import { parseServingConfig } from './engine/config.js';
import { asError } from './engine/errors.js';

export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a non-negative integer');
  return n;
}

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

export function portNumber(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new InvalidArgumentError('expected a port number, 0 to 65535');
  return n;
}

/** The engine's own defaults, shown in the help; an option not given leaves the setting to --config or to these. */
export const ENGINE_DEFAULTS = parseServingConfig({});

export interface ServeOptions {
  repository?: string;
  model?: string;
  name: string;
  config?: string;
  // Serving settings: undefined when not given, so that --config (or the engine's default) holds.
  workers?: number;
  intraOpThreads?: number;
  maxBatch?: number;
  maxDelayUs?: number;
  queueCapacity?: number;
  /** Undefined when not given: 64 synthetic actors with --demo synthetic, none otherwise. */
  load?: number;
  loadRate: number;
  duration: number;
  port: number;
  bind: string;
  telemetryHz: number;
  dashboard: boolean;
  httpPort: number;
  grpcPort: number;
  /** False with --no-grpc. */
  grpc: boolean;
  inferenceApi: boolean;
  metricsPort: number;
  metrics: boolean;
  metricsPublic?: boolean;
  tokenFile?: string;
  maxBodyBytes?: number;
  maxTensors?: number;
  maxElements?: number;
  /** Undefined when not given: see `demoOf`. */
  demo?: DemoName;
  experienceDir?: string;
  checkpointInterval: number;
}

export type DemoName = 'synthetic' | 'cartpole' | 'none';

/**
 * The demo to run: the one asked for, or CartPole on a temporary repository. A repository or
 * a model the user gives is served as it is: no learner publishes into it unless asked.
 */
export function demoOf(options: Pick<ServeOptions, 'demo' | 'repository' | 'model'>): DemoName {
  return options.demo ?? (options.repository !== undefined || options.model !== undefined ? 'none' : 'cartpole');
}

/** Synthetic requesters: those asked for, or DEFAULT_LOAD with the synthetic demo on a repository, else none. */
export function loadOf(options: Pick<ServeOptions, 'demo' | 'repository' | 'model' | 'load'>, defaultLoad: number): number {
  return options.load ?? (demoOf(options) === 'synthetic' && options.model === undefined ? defaultLoad : 0);
}

/**
 * --config's settings with the options given on the command line over them. Checked here,
 * so that a bad value stops the start with its reason: in a repository it would otherwise
 * only keep every model from loading.
 */
export async function servingConfig(options: ServeOptions): Promise<{ input: ModelServingConfigInput; checked: ModelServingConfig }> {
  const fromFile = options.config ? await readServingConfigFile(options.config) : {};
  const merged: ModelServingConfigInput = {
    ...fromFile,
    workers: { ...fromFile.workers, ...given({ count: options.workers, intraOpThreads: options.intraOpThreads }) },
    batching: { ...fromFile.batching, ...given({ maxBatchSize: options.maxBatch, maxQueueDelayUs: options.maxDelayUs }) },
    queue: { ...fromFile.queue, ...given({ capacity: options.queueCapacity }) },
  };
  // `input` goes on as given, so that a repository's config.json lays its own keys over it;
  // `checked` is the same with the engine's defaults filled in.
  return { input: merged, checked: parseServingConfig(merged, 'serving settings (--config and command-line options)') };
}

async function readServingConfigFile(path: string): Promise<ModelServingConfigInput> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new ConfigError(`--config ${path}: ${asError(error).message}`, { cause: error });
  }
  parseServingConfig(json, `--config ${path}`);
  return json as ModelServingConfigInput; // checked by the line above
}

export function isLoopback(address: string): boolean {
  return address === 'localhost' || address === '::1' || /^127\.\d+\.\d+\.\d+$/.test(address);
}

/** The entries whose value was given. */
function given<T extends Record<string, number | undefined>>(values: T): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as Partial<T>;
}
