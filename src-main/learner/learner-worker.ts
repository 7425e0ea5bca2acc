/**
 * The demo's learner, in its own thread: the cross-entropy method over the CartPole
 * policy's weights, publishing each generation's mean policy into the model repository
 * as the next version (the documented way: staged, then renamed), where the updater
 * validates it and the engine swaps it in.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { buildMlp } from '../models/mlp.js';
import { publishModel } from '../repository/publish.js';
import { CrossEntropyMethod } from './cem.js';

export interface LearnerWorkerData {
  readonly repository: string;
  readonly model: string;
  readonly layers: readonly number[];
  /** Version to publish first (the one after what the repository holds). */
  readonly firstVersion: number;
  /** Pause between generations, so each version is served and watched for a while. */
  readonly intervalMs: number;
  readonly seed: number;
  /** Stop once the mean policy scores this in `solvedGenerations` generations in a row. */
  readonly solvedReturn: number;
  readonly solvedGenerations: number;
}

export type LearnerMessage =
  | { type: 'generation'; generation: number; version: number; meanPolicyReturn: number; bestCandidateReturn: number }
  | { type: 'solved'; version: number };

const data = workerData as LearnerWorkerData;
const port = parentPort!;
const cem = new CrossEntropyMethod({ layers: data.layers, seed: data.seed });
let version = data.firstVersion;
let solvedStreak = 0;
let stopping = false;
port.on('message', (m: { type: 'stop' }) => {
  if (m.type === 'stop') stopping = true;
});

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
    break;
  }
  await new Promise((resolve) => setTimeout(resolve, data.intervalMs));
}
port.close();
