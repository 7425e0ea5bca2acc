/**
 * An actor thread: steps its CartPole environments, gets each action from the engine
 * through the shared action channel (no postMessage per step), and writes every
 * transition, tagged with the policy version that chose it, into the experience buffer.
 */
import { workerData } from 'node:worker_threads';
import { ExperienceBuffer, type BufferDescriptor } from '../experience/buffer.js';
import { ActionChannel, type ChannelDescriptor } from './action-channel.js';
import { ActorStats, type ActorStatsDescriptor } from './actor-stats.js';
import { CartPole, OBSERVATION_SIZE } from './cartpole.js';

export interface ActorWorkerData {
  readonly channel: ChannelDescriptor;
  readonly buffer: BufferDescriptor;
  readonly stats: ActorStatsDescriptor;
  /** The channel slots this actor owns, one per environment. */
  readonly slots: readonly number[];
  readonly seed: number;
}

const data = workerData as ActorWorkerData;
const channel = ActionChannel.attach(data.channel);
const buffer = ExperienceBuffer.attach(data.buffer);
const stats = ActorStats.attach(data.stats);
// startVersion: the policy version that chose the episode's first action (0 until it is known).
const envs = data.slots.map((slot, i) => ({ slot, env: new CartPole(data.seed * 1000 + i), episodeReturn: 0, startVersion: 0 }));
const obs = envs.map(() => new Float32Array(OBSERVATION_SIZE));
const next = new Float32Array(OBSERVATION_SIZE);
const answer = { action: 0, version: 0 };

for (const [i, e] of envs.entries()) {
  e.env.reset();
  e.env.observe(obs[i]!);
}

const INSERT_WAIT_MS = 1000;

while (!channel.stopped) {
  // The table's rate limiter may hold inserts back (the learner is behind): wait here, off the main thread.
  if (buffer.insertsHeld) {
    const waited = buffer.awaitInsertPermit(INSERT_WAIT_MS);
    stats.insertWait(waited);
    if (waited < 0) continue; // still held: check for a stop, then wait again
  }
  for (const [i, e] of envs.entries()) channel.post(e.slot, obs[i]!);
  channel.ring();
  for (const [i, e] of envs.entries()) {
    if (!channel.await(e.slot, answer)) break;
    const { reward, terminated, truncated } = e.env.step(answer.action);
    e.env.observe(next);
    if (e.startVersion === 0) e.startVersion = answer.version;
    e.episodeReturn += reward;
    buffer.insert({
      obs: obs[i]!,
      action: answer.action,
      reward,
      done: terminated ? 1 : 0,
      next_obs: next,
      policy_version: answer.version,
    });
    if (terminated || truncated) {
      stats.episode(e.episodeReturn, e.startVersion);
      e.episodeReturn = 0;
      e.startVersion = 0;
      e.env.reset();
      e.env.observe(obs[i]!);
    } else {
      obs[i]!.set(next);
    }
  }
  stats.addSteps(envs.length);
}
