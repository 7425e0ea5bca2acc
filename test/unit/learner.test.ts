import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CrossEntropyMethod } from '../../src-main/learner/cem.js';
import { LinearCritic } from '../../src-main/learner/critic.js';
import { resumePoint } from '../../src-main/learner/learner.js';
import { buildMlp, mlpParametersFromOnnx, randomMlpParameters } from '../../src-main/models/mlp.js';
import { publishModel } from '../../src-main/repository/publish.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('MLP parameters from ONNX', () => {
  it('reads back exactly the parameters buildMlp wrote', () => {
    const layers = [4, 16, 2];
    const params = randomMlpParameters(layers, 11);
    expect(Array.from(mlpParametersFromOnnx(buildMlp({ layers, parameters: params }), layers))).toEqual(Array.from(params));
  });

  it('refuses a model of another shape with RangeError', () => {
    expect(() => mlpParametersFromOnnx(buildMlp({ layers: [4, 8, 2] }), [4, 16, 2])).toThrow(RangeError);
  });
});

describe('learner resume point', () => {
  it('continues after the latest version, from its weights; afresh after a version of another shape', async () => {
    const repository = mkdtempSync(join(tmpdir(), 'switchboard-resume-'));
    dirs.push(repository);
    const layers = [4, 16, 2];
    expect(await resumePoint(repository, 'cartpole', layers)).toEqual({ firstVersion: 1, resumedFromVersion: null });
    const params = randomMlpParameters(layers, 5);
    await publishModel(repository, 'cartpole', 1, buildMlp({ layers }));
    await publishModel(repository, 'cartpole', 7, buildMlp({ layers, parameters: params }));
    const resume = await resumePoint(repository, 'cartpole', layers);
    expect(resume.firstVersion).toBe(8);
    expect(resume.resumedFromVersion).toBe(7);
    expect(Array.from(resume.initialParameters!)).toEqual(Array.from(params));
    mkdirSync(join(repository, 'cartpole', '9'));
    writeFileSync(join(repository, 'cartpole', '9', 'model.onnx'), buildMlp({ layers: [4, 8, 2] }));
    expect(await resumePoint(repository, 'cartpole', layers)).toEqual({ firstVersion: 10, resumedFromVersion: null });
  });
});

describe('CEM', () => {
  it('starts its search from the given mean', () => {
    const layers = [4, 16, 2];
    const initialMean = randomMlpParameters(layers, 3);
    const cem = new CrossEntropyMethod({ layers, initialMean });
    expect(Array.from(cem.mean)).toEqual(Array.from(initialMean));
    expect(() => new CrossEntropyMethod({ layers, initialMean: new Float32Array(3) })).toThrow(RangeError);
  });
});

describe('TD(0) critic', () => {
  it('learns the values of a two-state chain, and priorities are |TD error| that shrink as it does', () => {
    // State a (obs 1) -> state b (obs -1) reward 0; b -> terminal, reward 1. V(b) = 1, V(a) = gamma.
    const critic = new LinearCritic(1, 0.9, 0.1);
    const batch = {
      obs: Float32Array.of(1, -1),
      nextObs: Float32Array.of(-1, 0),
      reward: Float32Array.of(0, 1),
      done: Uint8Array.of(0, 1),
      weights: Float64Array.of(1, 1),
    };
    const first = critic.train(batch);
    expect(first.priorities[1]).toBeCloseTo(1 + 1e-3, 6); // V starts at 0: error 1 on the terminal step
    let last = first;
    for (let i = 0; i < 2000; i++) last = critic.train(batch);
    expect(critic.value([-1])).toBeCloseTo(1, 2);
    expect(critic.value([1])).toBeCloseTo(0.9, 2);
    expect(last.loss).toBeLessThan(first.loss / 100);
    expect(Math.max(...last.priorities)).toBeLessThan(0.01);
  });
});
