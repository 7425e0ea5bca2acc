/**
 * A model's settings written from the dashboard against a real engine: checked with
 * config.json's schema, applied to the running model where the engine can, written
 * atomically; on an error nothing is written and the model runs as it did.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, Engine } from '../../src-main/engine/index.js';
import { configureModel } from '../../src-main/repository/model-settings.js';
import { smallMlp } from '../fixtures/models.js';

let engine: Engine;
let root: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'sb-settings-'));
  mkdirSync(join(root, 'mlp', '1'), { recursive: true });
  engine = new Engine();
  await engine.loadModel({ name: 'mlp', source: smallMlp(), config: { workers: { count: 1 } } });
}, 60_000);

afterAll(async () => {
  await engine.stop();
  rmSync(root, { recursive: true, force: true });
});

const configFile = () => join(root, 'mlp', 'config.json');

describe('configureModel', () => {
  it('applies the queue, batch size and delay and worker count at once, and writes the rest for the next version', async () => {
    const file = { batching: { maxBatchSize: 32, maxQueueDelayUs: 900, mode: 'none' }, queue: { capacity: 512 }, workers: { count: 2 } };
    const result = await configureModel(root, engine, 'mlp', file);
    expect(result.applied).toEqual(['queue', 'batching.maxBatchSize', 'batching.maxQueueDelayUs', 'workers.count']);
    expect(result.atNextVersion).toEqual(['batching.mode']);
    expect(engine.settings('mlp')).toMatchObject({
      batching: { maxBatchSize: 32, maxQueueDelayUs: 900 },
      queue: { capacity: 512 },
      workers: { count: 2 },
    });
    expect(JSON.parse(readFileSync(configFile(), 'utf8'))).toEqual(file);
    expect(readdirSync(join(root, 'mlp')).sort()).toEqual(['1', 'config.json']); // no staging file left
  });

  it('refuses what config.json could not hold, naming the field, and changes nothing', async () => {
    const before = readFileSync(configFile(), 'utf8');
    const settings = engine.settings('mlp');
    const refusal = configureModel(root, engine, 'mlp', { batching: { maxBatchSize: 10_000_000 }, queue: { capacity: 8 } });
    await expect(refusal).rejects.toBeInstanceOf(ConfigError);
    await expect(configureModel(root, engine, 'mlp', { batching: { maxBatchSize: 10_000_000 } })).rejects.toThrow('batching.maxBatchSize');
    await expect(configureModel(root, engine, 'mlp', { batching: { maxBatchSize: 8, typo: 1 } })).rejects.toThrow(/typo/);
    expect(readFileSync(configFile(), 'utf8')).toBe(before);
    expect(engine.settings('mlp')).toEqual(settings);
  });

  it('refuses a model the repository does not hold, writing nothing', async () => {
    await expect(configureModel(root, engine, 'absent', {})).rejects.toThrow('the repository holds no model "absent"');
    await expect(configureModel(root, engine, '../escape', {})).rejects.toThrow('invalid model name');
    expect(existsSync(join(root, 'absent'))).toBe(false);
  });
});
