import { afterEach, describe, expect, it } from 'vitest';
import { CARTPOLE_MODEL } from '../../src-main/demo/cartpole-loop.js';
import { SwitchboardHost } from '../../src-main/host/switchboard-host.js';
import { forkLauncher } from '../../src-main/updater/launcher.js';
import { until } from './helpers.js';

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);

describe('actor-learner loop on CartPole', () => {
  it('learner versions are validated, swapped in and served to the actors, whose returns rise to the maximum', async () => {
    const host = new SwitchboardHost({
      launcher: forkLauncher(),
      updater: { scanIntervalMs: 50 },
      demo: { kind: 'cartpole', loop: { learnerIntervalMs: 100, actors: 2, envsPerActor: 8 } },
    });
    stops.push(() => host.stop());
    await host.start();
    const loop = host.cartpole!;
    await until(() => (loop.snapshot().actors?.episodes ?? 0) >= 16, 30_000, 'the untrained policy playing');
    const untrained = mean(loop.snapshot().actors!.recentEpisodes.map((e) => e.return));
    await until(
      () => {
        const s = loop.snapshot();
        return s.learner.solvedAtVersion !== null && host.engine.model(CARTPOLE_MODEL).version >= s.learner.solvedAtVersion;
      },
      120_000,
      'the learner solving CartPole and its version being served',
    );
    // Episodes that started on the solved version (or a later one), as the actors played them.
    const solvedAt = loop.snapshot().learner.solvedAtVersion!;
    const onSolved = () => loop.snapshot().actors!.recentEpisodes.filter((e) => e.version >= solvedAt);
    await until(() => onSolved().length >= 16, 60_000, 'episodes on the solved version');
    const served = onSolved().map((e) => e.return);
    expect(untrained).toBeLessThan(100);
    expect(mean(served)).toBeGreaterThan(450);
    expect(loop.experience.buffer.counts().committed).toBeGreaterThan(1000);
    expect(host.engine.swapHistory(CARTPOLE_MODEL).filter((s) => s.ok).length).toBeGreaterThan(0);
  });
});
