/** Runs the demo learner thread: keeps what it reports, and hands it replay batches to train on. */
import { readFile } from 'node:fs/promises';
import type { Worker } from 'node:worker_threads';
import { ShuttingDownError } from '../engine/errors.js';
import { mlpParametersFromOnnx } from '../models/mlp.js';
import { modelFilePath, scanRepository } from '../repository/layout.js';
import { spawnModuleWorker } from '../util/spawn.js';
import type { CriticBatch, CriticResult } from './critic.js';
import type { LearnerMessage, LearnerRequest, LearnerWorkerData } from './learner-worker.js';

export interface LearnerSnapshot {
  generations: { generation: number; version: number; meanPolicyReturn: number; bestCandidateReturn: number; atMs: number }[];
  solvedAtVersion: number | null;
  /** Version the search started from (null: from scratch). */
  resumedFromVersion: number | null;
  running: boolean;
  critic: { batches: number; items: number; loss: number | null };
  error: string | null;
}

/** Where a learner continues in `repository`: after its latest version, from that version's weights when they fit `layers`. */
export async function resumePoint(
  repository: string,
  model: string,
  layers: readonly number[],
): Promise<{ firstVersion: number; initialParameters?: Float32Array; resumedFromVersion: number | null }> {
  const entry = (await scanRepository(repository)).find((m) => m.name === model);
  const latest = entry?.versions.at(-1)?.version;
  if (latest === undefined) return { firstVersion: 1, resumedFromVersion: null };
  try {
    const initialParameters = mlpParametersFromOnnx(new Uint8Array(await readFile(modelFilePath(repository, model, latest))), layers);
    return { firstVersion: latest + 1, initialParameters, resumedFromVersion: latest };
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    return { firstVersion: latest + 1, resumedFromVersion: null }; // not our MLP's shape: start afresh, after it
  }
}

export class Learner {
  private worker: Worker | undefined;
  private readonly state: LearnerSnapshot;
  private nextId = 0;
  private readonly pending = new Map<number, { resolve: (r: CriticResult) => void; reject: (e: Error) => void }>();

  constructor(
    private readonly data: LearnerWorkerData,
    resumedFromVersion: number | null = null,
  ) {
    this.state = {
      generations: [],
      solvedAtVersion: null,
      resumedFromVersion,
      running: false,
      critic: { batches: 0, items: 0, loss: null },
      error: null,
    };
  }

  start(): void {
    const worker = spawnModuleWorker(
      { callerUrl: import.meta.url, source: './learner-worker.ts', built: 'learner-worker.js' },
      { workerData: this.data, name: 'learner' },
    );
    this.worker = worker;
    this.state.running = true;
    worker.on('message', (m: LearnerMessage) => this.receive(m));
    worker.on('error', (error) => {
      this.state.error = error.message;
    });
    worker.on('exit', () => {
      this.state.running = false;
      this.failPending(new ShuttingDownError('the learner thread has exited'));
    });
  }

  /** Train the critic on one replay batch; resolves with the items' new priorities. */
  train(batch: CriticBatch): Promise<CriticResult> {
    const worker = this.worker;
    if (!worker || !this.state.running) return Promise.reject(new ShuttingDownError('the learner is not running'));
    const id = this.nextId++;
    return new Promise<CriticResult>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.postMessage({ type: 'train', id, batch } satisfies LearnerRequest);
    });
  }

  snapshot(): LearnerSnapshot {
    return { ...this.state, generations: [...this.state.generations], critic: { ...this.state.critic } };
  }

  async stop(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (!worker) return;
    worker.postMessage({ type: 'stop' } satisfies LearnerRequest);
    await worker.terminate();
    this.failPending(new ShuttingDownError('the learner stopped'));
  }

  private receive(m: LearnerMessage): void {
    switch (m.type) {
      case 'generation':
        this.state.generations.push({ ...m, atMs: Date.now() });
        if (this.state.generations.length > 500) this.state.generations.shift();
        break;
      case 'solved':
        this.state.solvedAtVersion = m.version;
        break;
      case 'trained': {
        const request = this.pending.get(m.id);
        this.pending.delete(m.id);
        this.state.critic.batches++;
        this.state.critic.items += m.priorities.length;
        this.state.critic.loss = m.loss;
        request?.resolve({ priorities: m.priorities, loss: m.loss });
        break;
      }
      case 'failed':
        this.state.error = m.message;
        break;
    }
  }

  private failPending(error: Error): void {
    for (const { reject } of this.pending.values()) reject(error);
    this.pending.clear();
  }
}
