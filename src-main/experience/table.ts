/**
 * A replay table over an ExperienceBuffer, with Reverb-like semantics: uniform,
 * prioritized (sum tree, alpha and importance weights with beta) or FIFO sampling;
 * removal of the oldest item when full and, optionally, of an item sampled
 * `maxTimesSampled` times; priority updates keyed by (slot, generation) so an update
 * for an overwritten item is ignored; and a rate limiter. Items written by actor
 * threads are taken in by `pull()`, in insertion order.
 */
import { RateLimitedError, ShuttingDownError } from '../engine/errors.js';
import type { Column, ExperienceBuffer } from './buffer.js';
import { RateLimiter, type LimiterState, type RateLimiterSpec } from './rate-limiter.js';
import { SumTree } from './sum-tree.js';

export type SamplerKind = 'uniform' | 'prioritized' | 'fifo';

export interface TableOptions {
  readonly name?: string;
  readonly sampler: SamplerKind;
  /** Prioritized: priority exponent. */
  readonly alpha?: number;
  /** Prioritized: importance-sampling exponent. */
  readonly beta?: number;
  /** Remove an item once sampled this many times (0: never). */
  readonly maxTimesSampled?: number;
  readonly rateLimiter?: RateLimiterSpec;
  readonly random?: () => number;
}

export interface SampleBatch {
  readonly slots: Int32Array;
  readonly generations: Int32Array;
  readonly probabilities: Float64Array;
  readonly weights: Float64Array;
  readonly data: ReadonlyMap<string, Column>;
}

export interface LimiterView {
  spec: RateLimiterSpec | null;
  size: number;
  inserts: number;
  samples: number;
  /** Whether one more insert, or a sample of the size asked about, would go through now. */
  canInsert: boolean;
  canSample: boolean;
  /** Calls waiting for the limiter. */
  waiting: number;
}

export interface TableStats {
  size: number;
  capacity: number;
  inserts: number;
  samples: number;
  staleUpdates: number;
  tornReads: number;
  removedBySampling: number;
}

export class ExperienceTable {
  readonly name: string;
  private readonly tree: SumTree;
  private readonly generations: Int32Array;
  private readonly timesSampled: Int32Array;
  private readonly fifo: { slot: number; generation: number }[] = [];
  private fifoHead = 0;
  private nextIndex = 0;
  /** The buffer's clear marker when this table last looked: a change means someone cleared it. */
  private clearedSeen = 0;
  private writersReleased = false;
  private maxPriority = 1;
  private readonly limiter: RateLimiter | undefined;
  private readonly waiters = new Set<() => void>();
  private readonly random: () => number;
  private readonly state: LimiterState = { size: 0, inserts: 0, samples: 0 };
  private readonly counters = { staleUpdates: 0, tornReads: 0, removedBySampling: 0 };

  constructor(
    readonly buffer: ExperienceBuffer,
    private readonly options: TableOptions,
  ) {
    this.name = options.name ?? 'replay';
    this.tree = new SumTree(buffer.capacity);
    this.generations = new Int32Array(buffer.capacity);
    this.timesSampled = new Int32Array(buffer.capacity);
    this.limiter = options.rateLimiter ? new RateLimiter(options.rateLimiter) : undefined;
    this.random = options.random ?? Math.random;
    // A restored or already-filled buffer: start at the oldest index that can still be in it.
    this.nextIndex = buffer.firstLiveIndex();
    this.clearedSeen = buffer.clearedBefore;
    this.wake(); // publish the limiter's insert allowance before any writer starts
  }

  /** Stop holding writer threads back (no one will sample any more); inserts through this table still obey the limiter. */
  releaseWriters(): void {
    this.writersReleased = true;
    this.buffer.limitInserts(undefined);
  }

  /** Remove every item, here and for every other reader of the buffer (see ExperienceBuffer.clear). */
  clear(): void {
    this.buffer.clear();
    this.forgetBefore(this.buffer.clearedBefore);
  }

  /** The rate limiter's view: whether one insert, or a sample of `n` items, would go through now. */
  limiterState(n = 1): LimiterView {
    this.pull();
    const spec = this.limiter?.spec ?? null;
    return {
      spec,
      size: this.state.size,
      inserts: this.state.inserts,
      samples: this.state.samples,
      canInsert: !this.limiter || this.limiter.canInsert(this.state),
      canSample: this.state.size > 0 && (!this.limiter || this.limiter.canSample(this.state, n)),
      waiting: this.waiters.size,
    };
  }

  /**
   * Priorities of the items held (the sampler's weights with alpha undone): every one
   * when the table holds at most `limit`, else those in every k-th slot, an even sample
   * wherever in the buffer the items sit.
   */
  priorities(limit: number): Float64Array {
    const capacity = this.buffer.capacity;
    const stride = this.state.size <= limit ? 1 : Math.max(1, Math.floor(capacity / limit));
    const out = new Float64Array(Math.min(this.state.size, Math.ceil(capacity / stride)));
    const alpha = this.options.sampler === 'prioritized' ? (this.options.alpha ?? 0.6) : 1;
    let n = 0;
    for (let slot = 0; slot < capacity && n < out.length; slot += stride) {
      const p = this.tree.get(slot);
      if (p > 0) out[n++] = alpha > 0 ? p ** (1 / alpha) : p;
    }
    return out.subarray(0, n);
  }

  private forgetBefore(index: number): void {
    this.tree.clear();
    this.fifo.length = 0;
    this.fifoHead = 0;
    this.state.size = 0;
    this.maxPriority = 1;
    this.nextIndex = Math.max(this.nextIndex, index);
    this.clearedSeen = index;
    this.wake();
  }

  get size(): number {
    return this.state.size;
  }

  /** Take in every item committed since the last call, in insertion order. */
  pull(): number {
    if (this.buffer.clearedBefore !== this.clearedSeen) this.forgetBefore(this.buffer.clearedBefore); // cleared by another reader
    let taken = 0;
    for (;;) {
      const slot = this.nextIndex % this.buffer.capacity;
      const expected = Math.floor(this.nextIndex / this.buffer.capacity) + 1;
      const generation = this.buffer.generationAt(slot);
      if (generation === expected) this.register(slot, generation);
      else if (generation < expected && this.nextIndex >= this.buffer.skipBefore) break; // not written yet (or being written): keep order
      // generation > expected: lapped before we saw it; skip it
      this.nextIndex++;
      taken++;
    }
    if (taken > 0) this.wake();
    return taken;
  }

  /** Insert from this thread, waiting for the rate limiter up to `timeoutMs`. */
  async insert(values: Readonly<Record<string, ArrayLike<number> | number>>, timeoutMs = 10_000): Promise<void> {
    this.pull();
    await this.waitUntil(() => !this.limiter || this.limiter.canInsert(this.state), timeoutMs);
    this.buffer.insert(values);
    this.pull();
  }

  /** Sample `n` items, waiting for the rate limiter up to `timeoutMs` (a `signal` ends the wait with ShuttingDownError). */
  async sample(n: number, timeoutMs = 10_000, signal?: AbortSignal): Promise<SampleBatch> {
    this.pull();
    await this.waitUntil(() => this.state.size > 0 && (!this.limiter || this.limiter.canSample(this.state, n)), timeoutMs, signal);
    return this.sampleNow(n);
  }

  /** Set priorities for sampled items; an update for a slot that holds a newer item is ignored. */
  updatePriorities(slots: ArrayLike<number>, generations: ArrayLike<number>, priorities: ArrayLike<number>): number {
    let applied = 0;
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i]!;
      if (this.generations[slot] !== generations[i] || this.tree.get(slot) === 0) {
        this.counters.staleUpdates++;
        continue;
      }
      const priority = Math.max(0, priorities[i]!);
      this.maxPriority = Math.max(this.maxPriority, priority);
      this.tree.set(slot, this.options.sampler === 'prioritized' ? priority ** (this.options.alpha ?? 0.6) : this.tree.get(slot));
      applied++;
    }
    return applied;
  }

  stats(): TableStats {
    return {
      size: this.state.size,
      capacity: this.buffer.capacity,
      inserts: this.state.inserts,
      samples: this.state.samples,
      ...this.counters,
    };
  }

  private register(slot: number, generation: number): void {
    const replaced = this.generations[slot]! > 0 && this.tree.get(slot) > 0;
    if (!replaced) this.state.size++;
    this.generations[slot] = generation;
    this.timesSampled[slot] = 0;
    this.state.inserts++;
    const initial = this.options.sampler === 'prioritized' ? this.maxPriority ** (this.options.alpha ?? 0.6) : 1;
    this.tree.set(slot, initial);
    if (this.options.sampler === 'fifo') this.fifo.push({ slot, generation });
  }

  private sampleNow(n: number): SampleBatch {
    const targets = this.buffer.newColumns(n);
    const out = new Map(this.buffer.fields.map((f, i) => [f.name, targets[i]!]));
    const slots = new Int32Array(n);
    const generations = new Int32Array(n);
    const probabilities = new Float64Array(n);
    const weights = new Float64Array(n);
    const beta = this.options.beta ?? 0.4;
    let maxWeight = 0;
    let row = 0;
    let attempts = 0;
    while (row < n && this.state.size > 0) {
      if (++attempts > n * 20) break;
      const slot = this.draw();
      if (slot < 0) break;
      const generation = this.generations[slot]!;
      const probability = this.options.sampler === 'fifo' ? 1 / this.state.size : this.tree.get(slot) / this.tree.total;
      if (!this.buffer.readInto(slot, generation, targets, row)) {
        this.counters.tornReads++; // overwritten by a writer since it was registered; pull() will catch up
        continue;
      }
      slots[row] = slot;
      generations[row] = generation;
      probabilities[row] = probability;
      weights[row] = (this.state.size * probability) ** -beta;
      maxWeight = Math.max(maxWeight, weights[row]!);
      this.afterSampled(slot);
      row++;
    }
    for (let i = 0; i < row; i++) weights[i]! /= maxWeight;
    this.state.samples += row;
    this.wake();
    if (row < n) {
      // Fewer items than asked for (FIFO ran out, or reads kept losing races): return what was read.
      for (const [name, column] of out) out.set(name, column.subarray(0, row * this.buffer.elements.get(name)!));
      return {
        slots: slots.subarray(0, row),
        generations: generations.subarray(0, row),
        probabilities: probabilities.subarray(0, row),
        weights: weights.subarray(0, row),
        data: out,
      };
    }
    return { slots, generations, probabilities, weights, data: out };
  }

  private draw(): number {
    if (this.options.sampler === 'fifo') {
      while (this.fifoHead < this.fifo.length) {
        const next = this.fifo[this.fifoHead++]!;
        if (this.generations[next.slot] === next.generation && this.tree.get(next.slot) > 0) {
          if (this.fifoHead > 1024 && this.fifoHead * 2 > this.fifo.length) {
            this.fifo.splice(0, this.fifoHead);
            this.fifoHead = 0;
          }
          return next.slot;
        }
      }
      return -1;
    }
    return this.tree.find(this.random() * this.tree.total);
  }

  private afterSampled(slot: number): void {
    const limit = this.options.sampler === 'fifo' ? 1 : (this.options.maxTimesSampled ?? 0);
    if (limit > 0 && ++this.timesSampled[slot]! >= limit) {
      this.tree.set(slot, 0);
      this.state.size--;
      this.counters.removedBySampling++;
    }
  }

  /**
   * Wait until `ready()` holds: re-checked when this table inserts or samples, and when
   * an actor thread commits an item (Atomics.waitAsync on the buffer's commit counter).
   */
  private waitUntil(ready: () => boolean, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(new ShuttingDownError(`table "${this.name}": the wait was cancelled`));
    if (ready()) return Promise.resolve();
    const started = performance.now();
    return new Promise<void>((resolve, reject) => {
      let done = false;
      const finish = (error?: Error) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', cancel);
        this.waiters.delete(check);
        this.buffer.wakeCommitWaiters(); // end this waiter's Atomics.waitAsync now
        if (error) reject(error);
        else resolve();
      };
      const check = () => {
        if (ready()) finish();
      };
      const timer = setTimeout(() => finish(new RateLimitedError('table', this.name, performance.now() - started)), timeoutMs);
      const cancel = () => finish(new ShuttingDownError(`table "${this.name}": the wait was cancelled`));
      signal?.addEventListener('abort', cancel, { once: true });
      this.waiters.add(check);
      const watchCommits = async () => {
        while (!done) {
          const remaining = timeoutMs - (performance.now() - started);
          if (remaining <= 0) return;
          // Items committed before this wait began may not be taken in yet, and a writer held
          // by the limiter commits nothing more: waiting for the next commit alone would wait
          // until the timeout. The count is read before pulling, so that a commit landing in
          // between ends the wait at once instead of slipping through.
          const seen = this.buffer.counts().committed;
          this.pull(); // wakes waiters, this one included
          if (done) return;
          await this.buffer.waitForCommit(seen, remaining);
        }
      };
      void watchCommits();
    });
  }

  private wake(): void {
    // Writer threads insert into the buffer directly: tell them whether the limiter lets inserts through.
    if (this.limiter && !this.writersReleased) {
      const allowance = this.limiter.insertAllowance(this.state);
      this.buffer.limitInserts(Number.isFinite(allowance) ? this.nextIndex + allowance : undefined);
    }
    for (const check of [...this.waiters]) check();
  }
}
