/**
 * The actor-learner loop on CartPole, the product's default demo: actor threads play
 * with the policy the engine serves and fill the experience buffer; the learner
 * publishes better policy versions into the repository; the updater validates them and
 * the engine swaps them in; the actors' returns rise. Meanwhile the learner samples the
 * buffer under its rate limiter to train a critic whose TD errors become priorities.
 */
import { ActorPool, type ActorPoolSnapshot } from '../actors/actor-pool.js';
import { ACTIONS, OBSERVATION_SIZE } from '../actors/cartpole.js';
import { standardFields } from '../experience/buffer.js';
import { ExperienceService, type SamplerSettings } from '../experience/service.js';
import type { SampleBatch } from '../experience/table.js';
import type { Engine } from '../engine/index.js';
import { Learner, resumePoint, type LearnerSnapshot } from '../learner/learner.js';
import { buildMlp, mlpParameterCount } from '../models/mlp.js';
import { publishModel, writeConfigIfAbsent } from '../repository/publish.js';

/** Versions of the CartPole policy the demo's repository keeps (see the updater's retention). */
export const CARTPOLE_RETAIN = 50;
export const CARTPOLE_MODEL = 'cartpole';
export const CARTPOLE_LAYERS = [OBSERVATION_SIZE, 16, ACTIONS] as const;

export interface CartPoleLoopOptions {
  readonly actors?: number;
  readonly envsPerActor?: number;
  /** Pause between learner generations. */
  readonly learnerIntervalMs?: number;
  readonly bufferCapacity?: number;
  /** Experience checkpoints: restored on start, written on a schedule and on stop. None when absent. */
  readonly checkpointDir?: string;
  readonly checkpointIntervalMs?: number;
  readonly sampler?: Partial<SamplerSettings>;
  readonly seed?: number;
}

export interface CartPoleLoopSnapshot {
  actors: ActorPoolSnapshot | null;
  learner: LearnerSnapshot;
}

export class CartPoleLoop {
  private pool: ActorPool | undefined;
  private unsubscribe: (() => void) | undefined;

  private constructor(
    private readonly engine: Engine,
    readonly experience: ExperienceService,
    private readonly learner: Learner,
    private readonly options: CartPoleLoopOptions,
  ) {}

  /**
   * Restore the buffer, and publish the untrained policy as version 1 when the repository
   * has no CartPole policy yet; the learner continues after the latest version.
   */
  static async open(engine: Engine, repository: string, options: CartPoleLoopOptions = {}): Promise<CartPoleLoop> {
    let resume = await resumePoint(repository, CARTPOLE_MODEL, CARTPOLE_LAYERS);
    if (resume.firstVersion === 1) {
      // A long run publishes thousands of generations: the repository keeps the newest CARTPOLE_RETAIN valid ones.
      await writeConfigIfAbsent(repository, CARTPOLE_MODEL, { versionPolicy: { kind: 'latest', retain: CARTPOLE_RETAIN } });
      const untrained = new Float32Array(mlpParameterCount(CARTPOLE_LAYERS));
      await publishModel(
        repository,
        CARTPOLE_MODEL,
        1,
        buildMlp({ layers: CARTPOLE_LAYERS, parameters: untrained, inputName: 'obs', outputName: 'logits' }),
      );
      resume = { firstVersion: 2, resumedFromVersion: null };
    }
    const experience = await ExperienceService.open({
      capacity: options.bufferCapacity ?? 200_000,
      fields: standardFields([OBSERVATION_SIZE]),
      checkpointDir: options.checkpointDir,
      checkpointIntervalMs: options.checkpointIntervalMs,
      sampler: options.sampler,
      events: engine.events,
    });
    const learner = new Learner(
      {
        repository,
        model: CARTPOLE_MODEL,
        layers: CARTPOLE_LAYERS,
        firstVersion: resume.firstVersion,
        initialParameters: resume.initialParameters,
        intervalMs: options.learnerIntervalMs ?? 1500,
        seed: options.seed ?? 3,
        solvedReturn: 500,
        solvedGenerations: 3,
      },
      resume.resumedFromVersion,
    );
    if (resume.resumedFromVersion !== null)
      engine.events.emit('info', 'learner', `CartPole learner continues from version ${resume.resumedFromVersion}`);
    return new CartPoleLoop(engine, experience, learner, options);
  }

  /** Run actors and learner once the engine serves the policy. */
  start(): void {
    const begin = () => {
      if (this.pool) return;
      this.pool = new ActorPool({
        engine: this.engine,
        model: CARTPOLE_MODEL,
        buffer: this.experience.buffer,
        actors: this.options.actors ?? 2,
        envsPerActor: this.options.envsPerActor ?? 16,
        seed: this.options.seed ?? 3,
      });
      const stats = this.pool.stats;
      this.experience.countInsertWaitsFrom(() => stats.insertWaits());
      this.pool.start();
      this.learner.start();
      this.experience.start((batch) => this.train(batch));
    };
    this.unsubscribe = this.engine.onEvent((event) => {
      if (event.kind === 'model-loaded' && event.model === CARTPOLE_MODEL) begin();
    });
    if (this.engine.modelNames().includes(CARTPOLE_MODEL)) begin();
  }

  /** The version actors are served now, when the policy is loaded. */
  activeVersion(): number | null {
    return this.engine.modelNames().includes(CARTPOLE_MODEL) ? this.engine.model(CARTPOLE_MODEL).version : null;
  }

  snapshot(): CartPoleLoopSnapshot {
    return { actors: this.pool?.snapshot() ?? null, learner: this.learner.snapshot() };
  }

  /** Sampling first (so nothing holds the actors back), then the actors, then the buffer's last checkpoint, then the learner. */
  async stop(): Promise<void> {
    this.unsubscribe?.();
    await this.experience.stopSampling();
    await this.pool?.stop(); // kept: its totals still show in the last status line
    await this.experience.stop();
    await this.learner.stop();
  }

  private async train(batch: SampleBatch): Promise<Float64Array> {
    const column = <T>(name: string) => batch.data.get(name) as T;
    const result = await this.learner.train({
      obs: column<Float32Array>('obs'),
      nextObs: column<Float32Array>('next_obs'),
      reward: column<Float32Array>('reward'),
      done: column<Uint8Array>('done'),
      weights: batch.weights,
    });
    return result.priorities;
  }
}
