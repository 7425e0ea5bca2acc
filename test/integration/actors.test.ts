import { describe, expect, it } from 'vitest';
import { ActorPool } from '../../src-main/actors/actor-pool.js';
import { ACTIONS, OBSERVATION_SIZE } from '../../src-main/actors/cartpole.js';
import { ExperienceBuffer, standardFields } from '../../src-main/experience/buffer.js';
import { policyLagBuckets } from '../../src-main/experience/distributions.js';
import { ExperienceTable } from '../../src-main/experience/table.js';
import { buildMlp } from '../../src-main/models/mlp.js';
import { startModel, until } from './helpers.js';

describe('built-in actors', () => {
  it('step CartPole with actions from the engine, write tagged transitions, and survive a crash', async () => {
    const { engine } = await startModel(buildMlp({ layers: [OBSERVATION_SIZE, 16, ACTIONS], seed: 3 }), {}, 'cartpole');
    const buffer = ExperienceBuffer.create(50_000, standardFields([OBSERVATION_SIZE]));
    const pool = new ActorPool({ engine, model: 'cartpole', buffer, actors: 2, envsPerActor: 4, restartDelayMs: 20 });
    pool.start();
    try {
      await until(() => pool.snapshot().steps >= 2000 && pool.snapshot().episodes >= 5, 30_000, 'steps and episodes');
      const snap = pool.snapshot();
      expect(snap.recentEpisodes.every((e) => e.return >= 1 && e.return <= 500 && e.version >= 1)).toBe(true);
      expect(policyLagBuckets(buffer, engine.model('cartpole').version, 256)).toMatchObject({ mean: 0, max: 0 });
      const latest = snap.recentEpisodes.slice(-20);
      expect(snap.meanReturn).toBeCloseTo(latest.reduce((sum, e) => sum + e.return, 0) / latest.length, 9);
      // Every transition came from the engine's version 1, with a legal action.
      const table = new ExperienceTable(buffer, { sampler: 'uniform' });
      table.pull();
      const batch = await table.sample(256);
      expect(Array.from(batch.data.get('policy_version')!).every((v) => v === 1)).toBe(true);
      expect(Array.from(batch.data.get('action')!).every((a) => a === 0 || a === 1)).toBe(true);
      // The engine answered them: one request per step, batched.
      expect(engine.snapshot().models[0]!.requests.succeeded).toBeGreaterThanOrEqual(2000);
      pool.crash(0);
      await until(() => pool.snapshot().restarts === 1, 10_000, 'actor restarted');
      const before = pool.snapshot().steps;
      await until(() => pool.snapshot().steps > before + 500, 20_000, 'stepping after the restart');
    } finally {
      await pool.stop();
    }
  });
});
