/**
 * npm run bench:updater-scale [-- --quick]
 *
 * The updater with a repository of 1,000 versions of one model against one of 10, side
 * by side: how long a version published with READY takes to be validated and active, and
 * the updater process's CPU at rest (from its heartbeats), once every version has its
 * verdict. A change should touch only what it names, so the figures at 1,000 versions
 * should be those at 10. The last line is the JSON result, with the targets of the issue
 * (publish to active within 2 s, the updater under 2% of a core at rest).
 */
import { buildMlp } from '../src-main/models/mlp.js';
import { Engine } from '../src-main/engine/index.js';
import { ModelCoordinator } from '../src-main/repository/coordinator.js';
import { publishModel } from '../src-main/repository/publish.js';
import { forkLauncher } from '../src-main/updater/launcher.js';
import { UpdaterSupervisor } from '../src-main/updater/supervisor.js';
import { TestRepository } from '../test/fixtures/repository.js';
import { log, median, quick, round } from './lib.js';

const SIZES = [10, 1000];
const PUBLISHES = quick ? 3 : 7;
const REST_MS = quick ? 6000 : 20_000;
const MODEL = buildMlp({ layers: [4, 8, 2], seed: 1 });

async function until(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

async function measure(versions: number) {
  const repo = new TestRepository();
  for (let v = 1; v <= versions; v++) await publishModel(repo.root, 'm', v, MODEL);
  const engine = new Engine();
  // The updater's defaults, as the product runs it.
  const supervisor = new UpdaterSupervisor(forkLauncher(), { settings: { repository: repo.root } }, engine.events);
  const coordinator = new ModelCoordinator(engine, supervisor, repo.root, engine.events, { workers: { count: 1 } });
  const model = () => coordinator.snapshot().models.find((m) => m.name === 'm');
  const active = () => model()?.activeVersion ?? null;
  try {
    const started = performance.now();
    coordinator.start();
    await until(() => (model()?.versions.filter((v) => v.validation === 'valid').length ?? 0) === versions, 600_000, 'every verdict');
    const allValidatedS = (performance.now() - started) / 1000;
    log(`${versions} versions: every one validated in ${round(allValidatedS, 1)} s`);
    const rest: number[] = [];
    const restEnd = Date.now() + REST_MS;
    while (Date.now() < restEnd) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      const cpu = supervisor.stats().cpuPercent;
      if (cpu !== null) rest.push(cpu);
    }
    const toActive: number[] = [];
    for (let i = 1; i <= PUBLISHES; i++) {
      const version = versions + i;
      const t0 = performance.now();
      await publishModel(repo.root, 'm', version, MODEL);
      await until(() => active() === version, 30_000, `version ${version} active`);
      toActive.push(performance.now() - t0);
    }
    const figures = {
      all_validated_s: round(allValidatedS, 1),
      updater_cpu_percent_at_rest: round(median(rest)),
      updater_cpu_percent_at_rest_max: round(Math.max(...rest)),
      publish_to_active_ms: round(median(toActive)),
      publish_to_active_max_ms: round(Math.max(...toActive)),
    };
    log(`${versions} versions: ${JSON.stringify(figures)}`);
    return figures;
  } finally {
    await coordinator.stop();
    await engine.stop();
    repo.cleanup();
  }
}

const results: Record<string, Awaited<ReturnType<typeof measure>>> = {};
for (const size of SIZES) results[`versions_${size}`] = await measure(size);
const big = results.versions_1000!;
const small = results.versions_10!;
console.log(
  JSON.stringify({
    ...results,
    ratio_publish_to_active_1000_vs_10: round(big.publish_to_active_ms / small.publish_to_active_ms),
    targets: {
      publish_to_active_within_2s: { figure_ms: big.publish_to_active_max_ms, met: big.publish_to_active_max_ms <= 2000 },
      updater_cpu_at_rest_under_2_percent: { figure: big.updater_cpu_percent_at_rest, met: big.updater_cpu_percent_at_rest < 2 },
    },
  }),
);
