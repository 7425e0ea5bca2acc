/**
 * A sum tree over leaf priorities (float64), for proportional sampling in O(log n).
 * Internal sums drift with many floating-point updates, so the tree is rebuilt from its
 * leaves every `rebuildEvery` updates.
 */
export class SumTree {
  private readonly size: number;
  private readonly nodes: Float64Array;
  private updatesSinceRebuild = 0;

  constructor(
    readonly capacity: number,
    private readonly rebuildEvery = 100_000,
  ) {
    let size = 1;
    while (size < capacity) size *= 2;
    this.size = size;
    this.nodes = new Float64Array(2 * size);
  }

  get total(): number {
    return this.nodes[1]!;
  }

  get(index: number): number {
    return this.nodes[this.size + index]!;
  }

  set(index: number, priority: number): void {
    if (!(priority >= 0) || !Number.isFinite(priority)) throw new RangeError(`priority must be finite and >= 0, got ${priority}`);
    let node = this.size + index;
    const delta = priority - this.nodes[node]!;
    this.nodes[node] = priority;
    for (node >>= 1; node >= 1; node >>= 1) this.nodes[node]! += delta;
    if (++this.updatesSinceRebuild >= this.rebuildEvery) this.rebuild();
  }

  /** The leaf whose cumulative range holds `mass` (0 <= mass < total). Never a zero-priority leaf. */
  find(mass: number): number {
    let node = 1;
    while (node < this.size) {
      const left = 2 * node;
      const leftSum = this.nodes[left]!;
      if (mass < leftSum || this.nodes[left + 1]! <= 0) node = left;
      else {
        mass -= leftSum;
        node = left + 1;
      }
    }
    let index = node - this.size;
    // Rounding can land on an empty leaf at a boundary: step to the nearest non-empty one.
    if (this.nodes[node]! <= 0) index = this.nearestNonZero(index);
    return index;
  }

  /** Every priority back to zero. */
  clear(): void {
    this.nodes.fill(0);
    this.updatesSinceRebuild = 0;
  }

  rebuild(): void {
    for (let node = this.size - 1; node >= 1; node--) this.nodes[node] = this.nodes[2 * node]! + this.nodes[2 * node + 1]!;
    this.updatesSinceRebuild = 0;
  }

  private nearestNonZero(index: number): number {
    for (let d = 1; d < this.capacity; d++) {
      if (index - d >= 0 && this.nodes[this.size + index - d]! > 0) return index - d;
      if (index + d < this.capacity && this.nodes[this.size + index + d]! > 0) return index + d;
    }
    throw new RangeError('the sum tree holds no positive priority');
  }
}
