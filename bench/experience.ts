/**
 * npm run bench:experience [-- --quick]
 *
 * The experience buffer against plain memory copies, in one run: inserts of 64-float
 * observations against TypedArray.set of the same rows, and uniform and prioritized
 * sampling (batches of 256) against copying the same number of random rows with no
 * sampler; and the built-in actors' environment steps per second, each action served by
 * the engine. The buffer's paths and their references alternate in rounds, each slice
 * beside the others under the same load, and a ratio is the median of the rounds' own
 * ratios. The last line printed is the JSON result.
 */
import { ActorPool } from '../src-main/actors/actor-pool.js';
import { ACTIONS, OBSERVATION_SIZE } from '../src-main/actors/cartpole.js';
import { Engine } from '../src-main/engine/index.js';
import { ExperienceBuffer, standardFields } from '../src-main/experience/buffer.js';
import { buildMlp } from '../src-main/models/mlp.js';
import { ExperienceTable } from '../src-main/experience/table.js';
import { mulberry32 } from '../src-main/util/prng.js';
import { log, median, quick, round } from './lib.js';

const OBS = 64;
const CAPACITY = quick ? 100_000 : 1_000_000;
const BATCH = 256;
const durationMs = quick ? 1500 : 5000;
const ROUNDS = quick ? 3 : 5;
/** Each path's slice in a round. */
const sliceMs = durationMs / ROUNDS;

function timed(run: () => number): number {
  const started = performance.now();
  let items = 0;
  while (performance.now() - started < sliceMs) items += run();
  return (items * 1000) / (performance.now() - started);
}

const fields = standardFields([OBS], []);
const obs = new Float32Array(OBS).map((_, i) => i / OBS);
const next = new Float32Array(OBS).map((_, i) => 1 - i / OBS);
const item = { obs, action: 1, reward: 0.5, done: 0, next_obs: next, policy_version: 1 };

// Inserts, and the same bytes moved with TypedArray.set (the floor any buffer pays).
const buffer = ExperienceBuffer.create(CAPACITY, fields);
const insert = () =>
  timed(() => {
    for (let i = 0; i < 1000; i++) buffer.insert(item);
    return 1000;
  });
const rawObs = new Float32Array(CAPACITY * OBS);
const rawNext = new Float32Array(CAPACITY * OBS);
const rawScalars = new Float32Array(CAPACITY * 4);
let cursor = 0;
const memcpy = () =>
  timed(() => {
    for (let i = 0; i < 1000; i++) {
      const slot = cursor++ % CAPACITY;
      rawObs.set(obs, slot * OBS);
      rawNext.set(next, slot * OBS);
      rawScalars[slot * 4] = 1;
      rawScalars[slot * 4 + 1] = 0.5;
      rawScalars[slot * 4 + 2] = 0;
      rawScalars[slot * 4 + 3] = 1;
    }
    return 1000;
  });
// Items before the first round: a round that samples first must not sample an empty buffer.
for (let i = 0; i < BATCH; i++) buffer.insert(item);

// Sampling from a full table, and gathering random rows with no sampler.
const uniform = new ExperienceTable(buffer, { sampler: 'uniform', random: mulberry32(1) });
const prioritized = new ExperienceTable(buffer, { sampler: 'prioritized', random: mulberry32(2) });
const random = mulberry32(3);
const sampleRate = async (table: ExperienceTable) => {
  table.pull(); // what the inserts of this round added
  const started = performance.now();
  let items = 0;
  while (performance.now() - started < sliceMs) items += (await table.sample(BATCH)).slots.length;
  return (items * 1000) / (performance.now() - started);
};
const outObs = new Float32Array(BATCH * OBS);
const outNext = new Float32Array(BATCH * OBS);
const outScalars = new Float32Array(BATCH * 4);
const gather = () =>
  timed(() => {
    for (let row = 0; row < BATCH; row++) {
      const slot = Math.floor(random() * CAPACITY);
      outObs.set(rawObs.subarray(slot * OBS, slot * OBS + OBS), row * OBS);
      outNext.set(rawNext.subarray(slot * OBS, slot * OBS + OBS), row * OBS);
      outScalars.set(rawScalars.subarray(slot * 4, slot * 4 + 4), row * 4);
    }
    return BATCH;
  });

interface Round {
  insert: number;
  memcpy: number;
  uniform: number;
  prioritized: number;
  gather: number;
}
const rounds: Round[] = [];
for (let r = 1; r <= ROUNDS; r++) {
  // Each round in another order, so that no path always runs first (or last) in a round.
  const order =
    r % 2 === 1 ? ['insert', 'memcpy', 'uniform', 'prioritized', 'gather'] : ['gather', 'prioritized', 'uniform', 'memcpy', 'insert'];
  const figures = {} as Round;
  for (const path of order as (keyof Round)[])
    figures[path] =
      path === 'insert'
        ? insert()
        : path === 'memcpy'
          ? memcpy()
          : path === 'gather'
            ? gather()
            : await sampleRate(path === 'uniform' ? uniform : prioritized);
  rounds.push(figures);
  log(
    `round ${r}: insert ${Math.round(figures.insert)} items/s, TypedArray.set ${Math.round(figures.memcpy)}; uniform ${Math.round(figures.uniform)} samples/s, prioritized ${Math.round(figures.prioritized)}, plain gather ${Math.round(figures.gather)}`,
  );
}
const of = (pick: (r: Round) => number) => median(rounds.map(pick));

// Built-in actors: CartPole environments stepped by actor threads, actions from the engine.
const engine = new Engine();
await engine.loadModel({ name: 'cartpole', source: buildMlp({ layers: [OBSERVATION_SIZE, 64, 64, ACTIONS], seed: 5 }) });
const actorBuffer = ExperienceBuffer.create(CAPACITY, standardFields([OBSERVATION_SIZE]));
const pool = new ActorPool({ engine, model: 'cartpole', buffer: actorBuffer, actors: 2, envsPerActor: 32 });
pool.start();
await new Promise((r) => setTimeout(r, 500)); // threads up and stepping
const stepsBefore = pool.snapshot().steps;
const actorStarted = performance.now();
await new Promise((r) => setTimeout(r, durationMs));
const actorSteps = ((pool.snapshot().steps - stepsBefore) * 1000) / (performance.now() - actorStarted);
await pool.stop();
await engine.stop();
log(`actors: ${Math.round(actorSteps)} environment steps/s (2 actor threads x 32 CartPoles, one engine inference per step)`);

console.log(
  JSON.stringify({
    rounds: ROUNDS,
    insert_items_s: Math.round(of((r) => r.insert)),
    memcpy_items_s: Math.round(of((r) => r.memcpy)),
    insert_ratio_vs_memcpy: round(of((r) => r.insert / r.memcpy)),
    uniform_samples_s: Math.round(of((r) => r.uniform)),
    prioritized_samples_s: Math.round(of((r) => r.prioritized)),
    gather_samples_s: Math.round(of((r) => r.gather)),
    prioritized_ratio_vs_gather: round(of((r) => r.prioritized / r.gather)),
    actor_steps_s: Math.round(actorSteps),
  }),
);
