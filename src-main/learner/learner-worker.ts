/**
 * The demo's learner, in its own thread. Policy: the cross-entropy method over the
 * CartPole policy's weights, publishing each generation's mean policy into the model
 * repository as the next version (the documented way: staged, then renamed), where the
 * updater validates it and the engine swaps it in; it stops publishing once solved.
 * Replay: batches sampled from the experience buffer train a TD(0) critic, whose TD
 * errors go back as the items' priorities.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { buildMlp } from '../models/mlp.js';
import { publishModel } from '../repository/publish.js';
import { CrossEntropyMethod } from './cem.js';
import { LinearCritic, type CriticBatch } from './critic.js';

export interface LearnerWorkerData {
  readonly repository: string;
  readonly model: string;
  readonly layers: readonly number[];
  /** Version to publish first (the one after what the repository holds). */
  readonly firstVersion: number;
  /** Where the search starts: the last published policy, or zeros. */
  readonly initialParameters?: Float32Array;
  /** Pause between generations, so each version is served and watched for a while. */
  readonly intervalMs: number;
  readonly seed: number;
  /** Stop publishing once the mean policy scores this in `solvedGenerations` generations in a row. */
  readonly solvedReturn: number;
  readonly solvedGenerations: number;
}

export type LearnerRequest = { type: 'stop' } | { type: 'train'; id: number; batch: CriticBatch };

export type LearnerMessage =
  | { type: 'generation'; generation: number; version: number; meanPolicyReturn: number; bestCandidateReturn: number }
  | { type: 'solved'; version: number }
  | { type: 'trained'; id: number; priorities: Float64Array; loss: number }
  | { type: 'failed'; message: string };

const data = workerData as LearnerWorkerData;
const port = parentPort!;
const critic = new LinearCritic(data.layers[0]!);
let stopping = false;

port.on('message', (m: LearnerRequest) => {
  if (m.type === 'stop') stopping = true;
  else {
    const { priorities, loss } = critic.train(m.batch);
    // Allocated here as a plain ArrayBuffer: hand it over instead of copying.
    port.postMessage({ type: 'trained', id: m.id, priorities, loss } satisfies LearnerMessage, [priorities.buffer as ArrayBuffer]);
  }
});

async function improvePolicy(): Promise<void> {
  const cem = new CrossEntropyMethod({
    layers: data.layers,
    seed: data.seed,
    initialMean: data.initialParameters,
    // Continuing from a trained policy: search near it instead of starting wide.
    initialStd: data.initialParameters ? 0.1 : 0.5,
  });
  let version = data.firstVersion;
  let solvedStreak = 0;
  while (!stopping) {
    const g = cem.step();
    await publishModel(
      data.repository,
      data.model,
      version,
      buildMlp({ layers: data.layers, parameters: g.parameters, inputName: 'obs', outputName: 'logits' }),
    );
    port.postMessage({
      type: 'generation',
      generation: g.generation,
      version,
      meanPolicyReturn: g.meanPolicyReturn,
      bestCandidateReturn: g.bestCandidateReturn,
    } satisfies LearnerMessage);
    version++;
    solvedStreak = g.meanPolicyReturn >= data.solvedReturn ? solvedStreak + 1 : 0;
    if (solvedStreak >= data.solvedGenerations) {
      port.postMessage({ type: 'solved', version: version - 1 } satisfies LearnerMessage);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, data.intervalMs));
  }
}

// The critic keeps answering after the policy is solved; the thread ends when the host terminates it.
improvePolicy().catch((error: unknown) => {
  port.postMessage({ type: 'failed', message: error instanceof Error ? error.message : String(error) } satisfies LearnerMessage);
});
