/**
 * A model's settings edited from the dashboard: checked with the schema config.json is
 * read with (the form can ask for nothing the file could not hold), applied to the running
 * model where the engine takes them at once (the queue, batch size and delay, the worker
 * count), then written atomically. The rest (batching mode, rate limits, memory budget,
 * worker tuning) takes effect when the next version loads, and the version policy once the
 * updater reads the file, as for a hand-edited config.json. On any error nothing is written
 * and the running model is as it was.
 */
import { existsSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, type Engine } from '../engine/index.js';
import type { ModelServingConfigInput } from '../engine/config.js';
import { configFilePath, modelDir } from './layout.js';
import { parseModelConfig, withDefaults, type RepositoryModelConfig } from './model-config.js';

export interface ConfigureResult {
  /** Settings in force on the running model now. */
  readonly applied: string[];
  /** Settings written that take effect with the next version loaded. */
  readonly atNextVersion: string[];
}

/** What the engine changes on a running model. */
const LIVE = ['queue', 'batching.maxBatchSize', 'batching.maxQueueDelayUs', 'workers.count'];

let writes = 0;

export async function configureModel(
  root: string,
  engine: Engine,
  model: string,
  file: Record<string, unknown>,
  defaults: ModelServingConfigInput = {},
): Promise<ConfigureResult> {
  const dir = modelDir(root, model);
  if (!existsSync(dir)) throw new ConfigError(`the repository holds no model "${model}"`);
  const parsed = parseModelConfig(withDefaults(defaults, file));
  if (!parsed.config) throw new ConfigError(`config.json for "${model}" would be invalid: ${parsed.error}`);
  const running = engine.modelNames().includes(model);
  if (running) applyLive(engine, model, parsed.config);
  const staging = join(dir, `.config-edit-${process.pid}-${++writes}.json`);
  await writeFile(staging, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o644 });
  await rename(staging, configFilePath(root, model));
  const written = Object.entries(file).flatMap(([key, value]) =>
    (key === 'batching' || key === 'workers') && typeof value === 'object' && value !== null
      ? Object.keys(value).map((sub) => `${key}.${sub}`)
      : [key],
  );
  const later = written.filter((path) => path !== 'versionPolicy' && !(running && (LIVE.includes(path) || path.startsWith('queue'))));
  return { applied: running ? LIVE : [], atNextVersion: later };
}

/** Change what the engine can change on the running model; on a refusal (a worker count past the memory budget), put back what was changed. */
function applyLive(engine: Engine, model: string, config: RepositoryModelConfig): void {
  const before = engine.settings(model);
  try {
    const { capacity, fullPolicy, fullWaitTimeoutMs, queueTimeoutMs } = config.queue;
    engine.reconfigureQueue(model, { capacity, fullPolicy, fullWaitTimeoutMs, queueTimeoutMs });
    engine.reconfigureBatching(model, { maxBatchSize: config.batching.maxBatchSize, maxQueueDelayUs: config.batching.maxQueueDelayUs });
    if (config.workers.count !== before.workers.count) engine.resizeWorkers(model, config.workers.count);
  } catch (error) {
    const { capacity, fullPolicy, fullWaitTimeoutMs, queueTimeoutMs } = before.queue;
    engine.reconfigureQueue(model, { capacity, fullPolicy, fullWaitTimeoutMs, queueTimeoutMs });
    engine.reconfigureBatching(model, { maxBatchSize: before.batching.maxBatchSize, maxQueueDelayUs: before.batching.maxQueueDelayUs });
    throw error;
  }
}
