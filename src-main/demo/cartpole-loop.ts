/**
 * The actor-learner loop on CartPole: actor threads play with the policy the engine
 * serves and fill the experience buffer; the learner publishes better policy versions
 * into the repository; the updater validates them and the engine swaps them in; the
 * actors' returns rise. Everything the product does, end to end, on one screen.
 */
import { ActorPool, type ActorPoolSnapshot } from '../actors/actor-pool.js';
import { ACTIONS, OBSERVATION_SIZE } from '../actors/cartpole.js';
import { ExperienceBuffer, standardFields } from '../experience/buffer.js';
import type { SwitchboardHost } from '../host/switchboard-host.js';
import { Learner, type LearnerSnapshot } from '../learner/learner.js';
import { buildMlp, mlpParameterCount } from '../models/mlp.js';
import { publishModel, repositoryHasVersions } from '../repository/publish.js';

export const CARTPOLE_MODEL = 'cartpole';
export const CARTPOLE_LAYERS = [OBSERVATION_SIZE, 16, ACTIONS] as const;

export interface CartPoleLoopOptions {
  readonly actors?: number;
  readonly envsPerActor?: number;
  /** Pause between learner generations. */
  readonly learnerIntervalMs?: number;
  readonly bufferCapacity?: number;
  readonly seed?: number;
}

export interface CartPoleLoopSnapshot {
  actors: ActorPoolSnapshot | null;
  learner: LearnerSnapshot;
  buffer: { capacity: number; bytes: number; committed: number };
}

export class CartPoleLoop {
  readonly buffer: ExperienceBuffer;
  private pool: ActorPool | undefined;
  private readonly learner: Learner;
  private unsubscribe: (() => void) | undefined;

  constructor(
    private readonly host: SwitchboardHost,
    private readonly options: CartPoleLoopOptions = {},
  ) {
    this.buffer = ExperienceBuffer.create(options.bufferCapacity ?? 200_000, standardFields([OBSERVATION_SIZE]));
    this.learner = new Learner({
      repository: host.repository,
      model: CARTPOLE_MODEL,
      layers: CARTPOLE_LAYERS,
      firstVersion: 2,
      intervalMs: options.learnerIntervalMs ?? 1500,
      seed: options.seed ?? 3,
      solvedReturn: 500,
      solvedGenerations: 3,
    });
  }

  /** Publish the untrained policy as version 1 (if the repository is empty), then run actors and learner once it serves. */
  async start(): Promise<void> {
    if (!(await repositoryHasVersions(this.host.repository))) {
      const untrained = new Float32Array(mlpParameterCount(CARTPOLE_LAYERS));
      await publishModel(
        this.host.repository,
        CARTPOLE_MODEL,
        1,
        buildMlp({ layers: CARTPOLE_LAYERS, parameters: untrained, inputName: 'obs', outputName: 'logits' }),
      );
    }
    const begin = () => {
      if (this.pool) return;
      this.pool = new ActorPool({
        engine: this.host.engine,
        model: CARTPOLE_MODEL,
        buffer: this.buffer,
        actors: this.options.actors ?? 2,
        envsPerActor: this.options.envsPerActor ?? 16,
        seed: this.options.seed ?? 3,
      });
      this.pool.start();
      this.learner.start();
    };
    this.unsubscribe = this.host.engine.onEvent((event) => {
      if (event.kind === 'model-loaded' && event.model === CARTPOLE_MODEL) begin();
    });
    if (this.host.engine.modelNames().includes(CARTPOLE_MODEL)) begin();
  }

  snapshot(): CartPoleLoopSnapshot {
    const { committed } = this.buffer.counts();
    return {
      actors: this.pool?.snapshot() ?? null,
      learner: this.learner.snapshot(),
      buffer: { capacity: this.buffer.capacity, bytes: this.buffer.byteLength, committed },
    };
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    await this.learner.stop();
    await this.pool?.stop();
  }
}
