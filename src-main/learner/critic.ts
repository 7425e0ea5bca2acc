/**
 * A state-value critic for CartPole learned from replay: linear in quadratic features
 * of the observation, trained by TD(0) on prioritized batches with importance weights,
 * returning |TD error| as each item's new priority (the Ape-X pattern). The CEM learner
 * does not need it to improve the policy; it is what keeps the replay path honest: the
 * buffer is sampled, priorities move, and the TD loss shows whether the data makes sense.
 */
export interface CriticBatch {
  readonly obs: Float32Array;
  readonly nextObs: Float32Array;
  readonly reward: Float32Array;
  readonly done: Uint8Array;
  readonly weights: Float64Array;
}

export interface CriticResult {
  readonly priorities: Float64Array;
  /** Importance-weighted mean squared TD error before the update. */
  readonly loss: number;
}

const PRIORITY_FLOOR = 1e-3;

export class LinearCritic {
  readonly weights: Float64Array;
  private readonly phi: Float64Array;
  private readonly nextPhi: Float64Array;
  private readonly gradient: Float64Array;

  constructor(
    private readonly observationSize: number,
    private readonly gamma = 0.98,
    private readonly learningRate = 0.01,
  ) {
    const features = 1 + observationSize + (observationSize * (observationSize + 1)) / 2;
    this.weights = new Float64Array(features);
    this.phi = new Float64Array(features);
    this.nextPhi = new Float64Array(features);
    this.gradient = new Float64Array(features);
  }

  value(observation: ArrayLike<number>, offset = 0): number {
    this.features(observation, offset, this.phi);
    return dot(this.weights, this.phi);
  }

  /** One importance-weighted TD(0) step on a batch; returns the new priorities. */
  train(batch: CriticBatch): CriticResult {
    const n = batch.reward.length;
    const d = this.observationSize;
    const priorities = new Float64Array(n);
    this.gradient.fill(0);
    let loss = 0;
    for (let i = 0; i < n; i++) {
      this.features(batch.nextObs, i * d, this.nextPhi);
      const bootstrap = batch.done[i] ? 0 : this.gamma * dot(this.weights, this.nextPhi);
      this.features(batch.obs, i * d, this.phi);
      const error = batch.reward[i]! + bootstrap - dot(this.weights, this.phi);
      const w = batch.weights[i]!;
      loss += w * error * error;
      priorities[i] = Math.abs(error) + PRIORITY_FLOOR;
      for (let k = 0; k < this.phi.length; k++) this.gradient[k]! += w * error * this.phi[k]!;
    }
    // Normalised step: stable whatever the feature scale, without tuning per environment.
    let norm = 0;
    for (let k = 0; k < this.gradient.length; k++) norm += this.gradient[k]! ** 2;
    const scale = this.learningRate / Math.max(1, Math.sqrt(norm) / n) / n;
    for (let k = 0; k < this.weights.length; k++) this.weights[k]! += scale * this.gradient[k]!;
    return { priorities, loss: n ? loss / n : 0 };
  }

  private features(source: ArrayLike<number>, offset: number, out: Float64Array): void {
    const d = this.observationSize;
    out[0] = 1;
    let k = 1;
    for (let i = 0; i < d; i++) out[k++] = source[offset + i]!;
    for (let i = 0; i < d; i++) for (let j = i; j < d; j++) out[k++] = source[offset + i]! * source[offset + j]!;
  }
}

function dot(a: Float64Array, b: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}
