import { describe, expect, it } from 'vitest';
import { CartPole, MAX_EPISODE_STEPS, THETA_LIMIT, X_LIMIT } from '../../src-main/actors/cartpole.js';
import { mulberry32 } from '../../src-main/util/prng.js';

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

  it('terminates once past 12 degrees or 2.4 m either way, and not at the limits themselves', () => {
    expect(THETA_LIMIT).toBe((12 * Math.PI) / 180);
    const env = new CartPole(2);
    // A step moves x by 0.02 x_dot and theta by 0.02 theta_dot: these land just past, or exactly on, each limit.
    const landing = (x: number, theta: number): boolean => {
      env.state.set([0, x / 0.02, 0, theta / 0.02]);
      env.steps = 0;
      return env.step(0).terminated;
    };
    const past = 1e-9;
    expect([landing(X_LIMIT + past, 0), landing(-X_LIMIT - past, 0)]).toEqual([true, true]);
    expect([landing(0, THETA_LIMIT + past), landing(0, -THETA_LIMIT - past)]).toEqual([true, true]);
    expect([landing(X_LIMIT - past, 0), landing(-X_LIMIT + past, 0)]).toEqual([false, false]);
    expect([landing(0, THETA_LIMIT - past), landing(0, -THETA_LIMIT + past)]).toEqual([false, false]);
    // Exactly on a limit (placed there, not moving) is still inside: Gymnasium terminates past it.
    const onLimit = (state: number[]) => {
      env.state.set(state);
      return env.step(0).terminated;
    };
    expect([onLimit([X_LIMIT, 0, 0, 0]), onLimit([-X_LIMIT, 0, 0, 0])]).toEqual([false, false]);
    expect([onLimit([0, 0, THETA_LIMIT, 0]), onLimit([0, 0, -THETA_LIMIT, 0])]).toEqual([false, false]);
  });

  it('reports step 500 as truncated, not terminated (a critic bootstraps through it), and a fall on step 500 as terminated', () => {
    const env = new CartPole(2);
    env.state.set([0, 0, 0, 0]);
    env.steps = MAX_EPISODE_STEPS - 2;
    expect(env.step(1)).toEqual({ reward: 1, terminated: false, truncated: false }); // step 499
    expect(env.step(0)).toEqual({ reward: 1, terminated: false, truncated: true }); // step 500
    env.state.set([X_LIMIT, 1, 0, 0]);
    env.steps = MAX_EPISODE_STEPS - 1;
    expect(env.step(0)).toEqual({ reward: 1, terminated: true, truncated: false });
  });

  it('resets each of the four state values from its seeded generator, uniform in ±0.05, and its step count', () => {
    const env = new CartPole(11);
    const reference = mulberry32(11);
    for (let episode = 0; episode < 3; episode++) {
      env.steps = 42;
      env.reset();
      const expected = Array.from({ length: 4 }, () => reference() * 0.1 - 0.05);
      expect(Array.from(env.state)).toEqual(expected);
      expect(expected.every((v) => Math.abs(v) <= 0.05)).toBe(true);
      expect(env.steps).toBe(0);
    }
  });

  it('writes its observation as float32 at the offset asked, touching nothing else', () => {
    const env = new CartPole(3);
    env.state.set([0.1, -0.2, 0.03, 0.4]);
    const out = new Float32Array(10).fill(9);
    env.observe(out, 3);
    expect(Array.from(out)).toEqual([9, 9, 9, ...[0.1, -0.2, 0.03, 0.4].map(Math.fround), 9, 9, 9]);
    env.observe(out);
    expect(Array.from(out.subarray(0, 4))).toEqual([0.1, -0.2, 0.03, 0.4].map(Math.fround));
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
    expect(() => a.step(2)).toThrow('CartPole takes action 0 or 1, got 2');
  });
});
