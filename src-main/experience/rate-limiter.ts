/**
 * Reverb's rate limiters for a table. MinSize: sampling waits until the table holds
 * enough items. SampleToInsertRatio: keeps samples per insert near a target, within an
 * error buffer, by holding back whichever side runs ahead. A held-back call waits (on
 * a promise, never spinning) until the other side moves or its timeout passes.
 */
export type RateLimiterSpec =
  | { readonly kind: 'minSize'; readonly minSize: number }
  | { readonly kind: 'sampleToInsertRatio'; readonly samplesPerInsert: number; readonly minSize: number; readonly errorBuffer: number };

export interface LimiterState {
  size: number;
  inserts: number;
  samples: number;
}

export class RateLimiter {
  private readonly minDiff: number;
  private readonly maxDiff: number;

  constructor(readonly spec: RateLimiterSpec) {
    if (spec.kind === 'sampleToInsertRatio') {
      if (!(spec.samplesPerInsert > 0) || !(spec.errorBuffer >= 0))
        throw new RangeError('samplesPerInsert must be > 0 and errorBuffer >= 0');
      const offset = spec.samplesPerInsert * spec.minSize;
      this.minDiff = offset - spec.errorBuffer;
      this.maxDiff = offset + spec.errorBuffer;
    } else {
      this.minDiff = -Infinity;
      this.maxDiff = Infinity;
    }
  }

  canInsert(state: LimiterState, n = 1): boolean {
    if (this.spec.kind === 'minSize' || state.size + n <= this.spec.minSize) return true;
    const diff = state.inserts * this.spec.samplesPerInsert - state.samples;
    return diff + n * this.spec.samplesPerInsert <= this.maxDiff;
  }

  /** How many more inserts canInsert would allow one by one from `state` (Infinity: no bound). */
  insertAllowance(state: LimiterState): number {
    if (this.spec.kind === 'minSize') return Infinity;
    const byRatio = Math.floor((this.maxDiff + state.samples) / this.spec.samplesPerInsert) - state.inserts;
    return Math.max(0, byRatio, this.spec.minSize - state.size);
  }

  canSample(state: LimiterState, n = 1): boolean {
    if (state.size < this.spec.minSize) return false;
    if (this.spec.kind === 'minSize') return true;
    const diff = state.inserts * this.spec.samplesPerInsert - state.samples;
    return diff - n >= this.minDiff;
  }
}
