/** Runs the demo learner thread and keeps what it reports. */
import type { Worker } from 'node:worker_threads';
import { spawnModuleWorker } from '../util/spawn.js';
import type { LearnerMessage, LearnerWorkerData } from './learner-worker.js';

export interface LearnerSnapshot {
  generations: { generation: number; version: number; meanPolicyReturn: number; bestCandidateReturn: number; atMs: number }[];
  solvedAtVersion: number | null;
  running: boolean;
}

export class Learner {
  private worker: Worker | undefined;
  private readonly state: LearnerSnapshot = { generations: [], solvedAtVersion: null, running: false };

  constructor(private readonly data: LearnerWorkerData) {}

  start(): void {
    const worker = spawnModuleWorker(
      { callerUrl: import.meta.url, source: './learner-worker.ts', built: 'learner-worker.js' },
      { workerData: this.data, name: 'learner' },
    );
    this.worker = worker;
    this.state.running = true;
    worker.on('message', (m: LearnerMessage) => {
      if (m.type === 'generation') {
        this.state.generations.push({ ...m, atMs: Date.now() });
        if (this.state.generations.length > 500) this.state.generations.shift();
      } else this.state.solvedAtVersion = m.version;
    });
    worker.on('exit', () => {
      this.state.running = false;
    });
  }

  snapshot(): LearnerSnapshot {
    return { ...this.state, generations: [...this.state.generations] };
  }

  async stop(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (!worker) return;
    worker.postMessage({ type: 'stop' });
    await worker.terminate();
  }
}
