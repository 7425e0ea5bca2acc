import { describe, expect, it } from 'vitest';
import { CartPole, MAX_EPISODE_STEPS, THETA_LIMIT } from '../../src-main/actors/cartpole.js';

describe('CartPole (Gymnasium CartPole-v1 dynamics)', () => {
  it('matches a step computed by hand from rest, pushing right', () => {
    const env = new CartPole(1);
    env.state.set([0, 0, 0, 0]);
    // temp = 10/1.1; thetaacc = -temp / (0.5 (4/3 - 0.1/1.1)); xacc = temp - 0.05 thetaacc / 1.1
    const result = env.step(1);
    expect(result).toEqual({ reward: 1, terminated: false, truncated: false });
    expect(env.state[0]).toBe(0);
    expect(env.state[1]).toBeCloseTo(0.1951219512195122, 15);
    expect(env.state[2]).toBe(0);
    expect(env.state[3]).toBeCloseTo(-0.2926829268292683, 15);
  });

  it('matches a second hand-computed step with a tilted pole, pushing left', () => {
    const env = new CartPole(1);
    env.state.set([0.1, -0.2, 0.05, 0.3]);
    env.step(0);
    // Computed separately (Python, Gymnasium's equations): cos = 0.99875026, sin = 0.04997917,
    // temp = (-10 + 0.05 * 0.3^2 * sin) / 1.1 = -9.09070463,
    // thetaacc = (9.8 sin - cos temp) / (0.5 (4/3 - 0.1 cos^2 / 1.1)) = 15.40116568,
    // xacc = temp - 0.05 thetaacc cos / 1.1 = -9.78988273
    expect(env.state[0]).toBeCloseTo(0.1 + 0.02 * -0.2, 12);
    expect(env.state[1]).toBeCloseTo(-0.2 + 0.02 * -9.78988273, 8);
    expect(env.state[2]).toBeCloseTo(0.05 + 0.02 * 0.3, 12);
    expect(env.state[3]).toBeCloseTo(0.3 + 0.02 * 15.40116568, 8);
  });

  it('terminates past 12 degrees or 2.4 m, and truncates at 500 steps', () => {
    const env = new CartPole(2);
    env.state.set([0, 0, THETA_LIMIT + 0.01, 0]);
    expect(env.step(1).terminated).toBe(true);
    env.state.set([2.45, 0, 0, 0]);
    expect(env.step(0).terminated).toBe(true);
    env.state.set([0, 0, 0, 0]);
    env.steps = MAX_EPISODE_STEPS - 1;
    // Balanced exactly upright with alternating pushes: not terminated at step 500, so truncated.
    const last = env.step(env.steps % 2);
    expect(last.truncated || last.terminated).toBe(true);
    expect(last.truncated).toBe(!last.terminated);
  });

  it('is seeded and deterministic, resetting within ±0.05', () => {
    const a = new CartPole(7);
    const b = new CartPole(7);
    a.reset();
    b.reset();
    expect(Array.from(a.state)).toEqual(Array.from(b.state));
    expect(Array.from(a.state).every((v) => Math.abs(v) <= 0.05)).toBe(true);
    for (let i = 0; i < 20; i++) {
      a.step(i % 2);
      b.step(i % 2);
    }
    expect(Array.from(a.state)).toEqual(Array.from(b.state));
    expect(() => a.step(2)).toThrow(RangeError);
  });
});
