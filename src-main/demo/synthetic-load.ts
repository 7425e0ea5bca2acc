/**
 * A synthetic load for the demo: `concurrency` simulated actors, each asking the model
 * for an action for a random observation as soon as the previous answer arrives,
 * optionally capped at a total rate. Refusals (full queue, rate limit) are counted and
 * backed off from, as a well-behaved client would.
 */
import type { ModelHandle } from '../engine/index.js';
import { EngineError, isPackedPlan, QueueFullError, RateLimitedError, ShuttingDownError } from '../engine/index.js';
import { mulberry32 } from '../util/prng.js';

export interface SyntheticLoadOptions {
  readonly concurrency: number;
  /** Requests per second across all actors; 0 means as fast as answers come. */
  readonly ratePerSecond: number;
  readonly rowsPerRequest?: number;
  readonly seed?: number;
}

export interface SyntheticLoadStats {
  sent: number;
  answered: number;
  refused: number;
  failed: number;
}

export class SyntheticLoad {
  readonly stats: SyntheticLoadStats = { sent: 0, answered: 0, refused: 0, failed: 0 };
  private running = false;
  private actors: Promise<void>[] = [];
  /** Pending back-off sleeps; stop() ends them early. */
  private readonly sleeps = new Map<NodeJS.Timeout, () => void>();
  private nextSlotAt = 0;

  constructor(
    private readonly model: ModelHandle,
    private readonly options: SyntheticLoadOptions,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.nextSlotAt = performance.now();
    this.actors = Array.from({ length: this.options.concurrency }, (_, i) => this.actor(i));
  }

  /** Stop sending and wait for the requests in flight to be answered. */
  async stop(): Promise<void> {
    this.running = false;
    for (const [timer, wake] of this.sleeps) {
      clearTimeout(timer);
      wake();
    }
    this.sleeps.clear();
    await Promise.all(this.actors);
  }

  private async actor(index: number): Promise<void> {
    const plan = this.model.plan;
    const input = plan.inputs[0]!;
    const rows = this.options.rowsPerRequest ?? 1;
    const random = mulberry32((this.options.seed ?? 1) * 7919 + index);
    // One request per run takes the declared shape, its symbolic dims `rows` long.
    const dims = isPackedPlan(plan)
      ? plan.inputs[0]!.shape.map((d) => (typeof d === 'number' ? d : rows))
      : [rows, ...plan.inputs[0]!.rowShape];
    const data = new Float32Array(dims.reduce((a, b) => a * b, 1));
    while (this.running) {
      await this.pace();
      if (!this.running) return;
      for (let i = 0; i < data.length; i++) data[i] = random() * 2 - 1;
      this.stats.sent++;
      try {
        await this.model.infer({ [input.name]: { data, dims } });
        this.stats.answered++;
      } catch (error) {
        if (error instanceof ShuttingDownError) return;
        if (error instanceof QueueFullError || error instanceof RateLimitedError) {
          this.stats.refused++;
          await this.sleep(error instanceof RateLimitedError ? error.retryAfterMs : 5);
        } else if (error instanceof EngineError) {
          // A model the load's float32 rows do not fit fails every request: not in a tight loop.
          this.stats.failed++;
          await this.sleep(5);
        } else {
          throw error;
        }
      }
    }
  }

  /** Spread requests evenly when a rate is set. */
  private async pace(): Promise<void> {
    if (this.options.ratePerSecond <= 0) return;
    const slot = this.nextSlotAt;
    this.nextSlotAt = Math.max(this.nextSlotAt, performance.now()) + 1000 / this.options.ratePerSecond;
    const wait = slot - performance.now();
    if (wait >= 1) await this.sleep(wait); // timers cannot wait less than 1 ms; a shorter wait is skipped
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.sleeps.delete(timer);
        resolve();
      }, ms);
      this.sleeps.set(timer, resolve);
    });
  }
}
