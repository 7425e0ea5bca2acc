/**
 * Built-in actors: worker threads stepping CartPole environments, served actions by the
 * engine through the shared action channel, writing transitions into the experience
 * buffer. The engine's thread answers requests as the doorbell rings; an actor thread
 * that dies is restarted (and counted).
 */
import type { Worker } from 'node:worker_threads';
import type { Engine } from '../engine/index.js';
import { EngineError, QueueFullError, RateLimitedError, ShuttingDownError } from '../engine/errors.js';
import type { ExperienceBuffer } from '../experience/buffer.js';
import { spawnModuleWorker } from '../util/spawn.js';
import { ActionChannel } from './action-channel.js';
import { ActorStats } from './actor-stats.js';
import type { ActorWorkerData } from './actor-worker.js';
import { OBSERVATION_SIZE } from './cartpole.js';

export interface ActorPoolOptions {
  readonly engine: Engine;
  readonly model: string;
  readonly buffer: ExperienceBuffer;
  readonly actors: number;
  readonly envsPerActor: number;
  readonly seed?: number;
  readonly restartDelayMs?: number;
}

export interface ActorPoolSnapshot {
  actors: number;
  envsPerActor: number;
  steps: number;
  episodes: number;
  restarts: number;
  /** The latest episodes with the policy version each started under, oldest first. */
  recentEpisodes: { return: number; version: number }[];
  /** Mean return of the latest 20 episodes (0 before the first). */
  meanReturn: number;
}

export class ActorPool {
  readonly channel: ActionChannel;
  readonly stats = ActorStats.create();
  private readonly workers: (Worker | undefined)[];
  private running = false;
  private restarts = 0;
  private serving: Promise<void> | undefined;
  private readonly restartTimers = new Set<NodeJS.Timeout>();

  constructor(private readonly options: ActorPoolOptions) {
    this.channel = ActionChannel.create(options.actors * options.envsPerActor, OBSERVATION_SIZE);
    this.workers = new Array<Worker | undefined>(options.actors).fill(undefined);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    for (let i = 0; i < this.options.actors; i++) this.spawn(i);
    this.serving = this.serve();
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const t of this.restartTimers) clearTimeout(t);
    this.restartTimers.clear();
    this.channel.stop();
    await this.serving;
    await Promise.all(this.workers.flatMap((w) => (w ? [w.terminate()] : [])));
    this.workers.fill(undefined);
  }

  /** Kill one actor thread (chaos drills and tests); it is restarted. */
  crash(index: number): void {
    void this.workers[index]?.terminate();
  }

  snapshot(): ActorPoolSnapshot {
    const episodes = this.stats.recentEpisodes();
    const latest = episodes.slice(-20);
    return {
      actors: this.options.actors,
      envsPerActor: this.options.envsPerActor,
      steps: this.stats.steps,
      episodes: this.stats.episodes,
      restarts: this.restarts,
      recentEpisodes: episodes,
      meanReturn: latest.length === 0 ? 0 : latest.reduce((sum, e) => sum + e.return, 0) / latest.length,
    };
  }

  private spawn(index: number): void {
    const per = this.options.envsPerActor;
    const data: ActorWorkerData = {
      channel: this.channel.descriptor,
      buffer: this.options.buffer.descriptor,
      stats: this.stats.descriptor,
      slots: Array.from({ length: per }, (_, k) => index * per + k),
      seed: (this.options.seed ?? 1) * 100 + index + this.restarts * 7919,
    };
    const worker = spawnModuleWorker(
      { callerUrl: import.meta.url, source: './actor-worker.ts', built: 'actor-worker.js' },
      { workerData: data, name: `actor-${index}` },
    );
    this.workers[index] = worker;
    worker.on('exit', () => {
      if (this.workers[index] !== worker || !this.running) return;
      this.workers[index] = undefined;
      this.restarts++;
      this.options.engine.events.emit('warn', 'actor-restarted', `actor thread ${index} exited; restarting it (restart ${this.restarts})`);
      const timer = setTimeout(() => {
        this.restartTimers.delete(timer);
        if (this.running) this.spawn(index);
      }, this.options.restartDelayMs ?? 100);
      this.restartTimers.add(timer);
    });
  }

  /** Answer requests as they come: one inference per environment step, batched by the engine. */
  private async serve(): Promise<void> {
    const { engine, model } = this.options;
    while (this.running) {
      const seen = this.channel.doorbell;
      const slots = this.channel.takeRequested();
      for (const slot of slots) {
        const data = this.channel.observation(slot).slice();
        engine.infer(model, { obs: { data, dims: [1, OBSERVATION_SIZE] } }).then(
          (result) => {
            const logits = firstOutput(result.outputs).data as Float32Array;
            this.channel.answer(slot, argmax(logits), result.modelVersion);
          },
          (error: unknown) => {
            if (error instanceof QueueFullError || error instanceof RateLimitedError) {
              this.channel.post(slot, data); // back in line: asked again on the next ring
              this.channel.ring();
            } else if (!(error instanceof ShuttingDownError)) {
              // The actor stays blocked on this slot (it wakes to see a stop): say why, loudly.
              const message = error instanceof EngineError ? `${error.code}: ${error.message}` : String(error);
              engine.events.emit('error', 'batch-failed', `actor request for "${model}" failed: ${message}`, { model });
            }
          },
        );
      }
      if (slots.length === 0) await this.channel.waitForRequests(seen, 200);
      else await new Promise((resolve) => setImmediate(resolve)); // let answers flow before scanning again
    }
  }
}

function argmax(values: Float32Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

/** The policy's one output (the logits), without building a key array per step. */
function firstOutput<T>(outputs: Record<string, T>): T {
  for (const name in outputs) return outputs[name]!;
  throw new RangeError('the policy returned no output');
}
