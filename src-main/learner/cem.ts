/**
 * The cross-entropy method over a policy's weights: sample a population around a mean,
 * score each by CartPole episode returns, move the mean and spread to the best. Small,
 * dependable on CartPole, and it produces a new policy version every generation.
 */
import { CartPole, MAX_EPISODE_STEPS } from '../actors/cartpole.js';
import { mlpParameterCount } from '../models/mlp.js';
import { mulberry32 } from '../util/prng.js';
import { MlpPolicy } from './mlp-policy.js';

export interface CemOptions {
  readonly layers: readonly number[];
  readonly population?: number;
  readonly eliteFraction?: number;
  readonly episodesPerCandidate?: number;
  /** Episodes the new mean policy is scored on each generation (what "solved" is judged by). */
  readonly evaluationEpisodes?: number;
  readonly initialStd?: number;
  /** Added to the spread each generation (decaying), so it does not collapse too early. */
  readonly extraNoise?: number;
  readonly seed?: number;
  /** Where the search starts (default: all zeros). */
  readonly initialMean?: Float32Array;
}

export interface Generation {
  readonly generation: number;
  /** Mean return of the new mean policy over fresh episodes. */
  readonly meanPolicyReturn: number;
  readonly bestCandidateReturn: number;
  readonly parameters: Float32Array;
}

export class CrossEntropyMethod {
  readonly mean: Float32Array;
  private readonly std: Float32Array;
  private readonly policy: MlpPolicy;
  private readonly random: () => number;
  private generation = 0;

  constructor(private readonly options: CemOptions) {
    const n = mlpParameterCount(options.layers);
    if (options.initialMean && options.initialMean.length !== n)
      throw new RangeError(`initialMean has ${options.initialMean.length} values, the policy ${n}`);
    this.mean = options.initialMean ? options.initialMean.slice() : new Float32Array(n);
    this.std = new Float32Array(n).fill(options.initialStd ?? 0.5);
    this.policy = new MlpPolicy(options.layers);
    this.random = mulberry32(options.seed ?? 1);
  }

  /** Average return of `params` over `episodes` seeded episodes. */
  evaluate(params: Float32Array, episodes: number, seed: number): number {
    let total = 0;
    const env = new CartPole(seed);
    for (let e = 0; e < episodes; e++) {
      env.reset();
      for (let t = 0; t < MAX_EPISODE_STEPS; t++) {
        const { reward, terminated, truncated } = env.step(this.policy.act(params, env.state));
        total += reward;
        if (terminated || truncated) break;
      }
    }
    return total / episodes;
  }

  step(): Generation {
    const population = this.options.population ?? 32;
    const elites = Math.max(2, Math.round(population * (this.options.eliteFraction ?? 0.2)));
    const episodes = this.options.episodesPerCandidate ?? 3;
    const n = this.mean.length;
    const candidates = Array.from({ length: population }, () => {
      const params = new Float32Array(n);
      for (let i = 0; i < n; i++) params[i] = this.mean[i]! + this.std[i]! * gaussian(this.random);
      return { params, score: 0 };
    });
    const seed = 1000 + this.generation;
    for (const c of candidates) c.score = this.evaluate(c.params, episodes, seed);
    candidates.sort((a, b) => b.score - a.score);
    const best = candidates.slice(0, elites);
    const noise = (this.options.extraNoise ?? 0.05) / (1 + this.generation / 5);
    for (let i = 0; i < n; i++) {
      let mean = 0;
      for (const c of best) mean += c.params[i]!;
      mean /= elites;
      let variance = 0;
      for (const c of best) variance += (c.params[i]! - mean) ** 2;
      this.mean[i] = mean;
      this.std[i] = Math.sqrt(variance / elites + noise * noise);
    }
    this.generation++;
    return {
      generation: this.generation,
      meanPolicyReturn: this.evaluate(this.mean, this.options.evaluationEpisodes ?? 10, 50_000 + this.generation),
      bestCandidateReturn: candidates[0]!.score,
      parameters: this.mean.slice(),
    };
  }
}

/** Box-Muller: a standard normal from two uniforms. */
function gaussian(random: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
}
