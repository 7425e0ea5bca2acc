/**
 * CartPole with the dynamics, limits and termination of Gymnasium's CartPole-v1: Euler
 * integration at 50 Hz, pole angle limit 12 degrees, cart position limit 2.4, reward 1
 * per step (the terminating one included), truncation after 500 steps. State is float64,
 * observations float32, resets uniform in [-0.05, 0.05] from a seeded generator (ours,
 * not NumPy's: same distribution, different numbers).
 */
import { mulberry32 } from '../util/prng.js';

const GRAVITY = 9.8;
const MASS_CART = 1.0;
const MASS_POLE = 0.1;
const TOTAL_MASS = MASS_CART + MASS_POLE;
const HALF_LENGTH = 0.5;
const POLE_MASS_LENGTH = MASS_POLE * HALF_LENGTH;
const FORCE = 10.0;
const TAU = 0.02;
export const THETA_LIMIT = (12 * 2 * Math.PI) / 360;
export const X_LIMIT = 2.4;
export const MAX_EPISODE_STEPS = 500;
export const OBSERVATION_SIZE = 4;
export const ACTIONS = 2;

export interface StepResult {
  readonly reward: number;
  readonly terminated: boolean;
  readonly truncated: boolean;
}

export class CartPole {
  /** x, x_dot, theta, theta_dot. */
  readonly state = new Float64Array(4);
  steps = 0;
  private readonly random: () => number;

  constructor(seed: number) {
    this.random = mulberry32(seed);
  }

  reset(): void {
    for (let i = 0; i < 4; i++) this.state[i] = this.random() * 0.1 - 0.05;
    this.steps = 0;
  }

  observe(out: Float32Array, offset = 0): void {
    for (let i = 0; i < 4; i++) out[offset + i] = this.state[i]!;
  }

  step(action: number): StepResult {
    if (action !== 0 && action !== 1) throw new RangeError(`CartPole takes action 0 or 1, got ${action}`);
    const s = this.state;
    const [x, xDot, theta, thetaDot] = [s[0]!, s[1]!, s[2]!, s[3]!];
    const force = action === 1 ? FORCE : -FORCE;
    const cos = Math.cos(theta);
    const sin = Math.sin(theta);
    const temp = (force + POLE_MASS_LENGTH * thetaDot * thetaDot * sin) / TOTAL_MASS;
    const thetaAcc = (GRAVITY * sin - cos * temp) / (HALF_LENGTH * (4 / 3 - (MASS_POLE * cos * cos) / TOTAL_MASS));
    const xAcc = temp - (POLE_MASS_LENGTH * thetaAcc * cos) / TOTAL_MASS;
    s[0] = x + TAU * xDot;
    s[1] = xDot + TAU * xAcc;
    s[2] = theta + TAU * thetaDot;
    s[3] = thetaDot + TAU * thetaAcc;
    this.steps++;
    const terminated = s[0] < -X_LIMIT || s[0] > X_LIMIT || s[2] < -THETA_LIMIT || s[2] > THETA_LIMIT;
    return { reward: 1, terminated, truncated: !terminated && this.steps >= MAX_EPISODE_STEPS };
  }
}
