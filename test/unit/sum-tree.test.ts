import { describe, expect, it } from 'vitest';
import { SumTree } from '../../src-main/experience/sum-tree.js';

/** Four updates whose internal sums keep a rounding residue (0.1 + 0.2 - 0.1 - 0.2 > 0) while every leaf is back at 0. */
function drifted(tree: SumTree): SumTree {
  tree.set(0, 0.1);
  tree.set(1, 0.2);
  tree.set(0, 0);
  tree.set(1, 0);
  return tree;
}

describe('SumTree', () => {
  it('finds the leaf whose cumulative range holds the mass, boundaries included, and never an empty leaf', () => {
    const tree = new SumTree(4);
    tree.set(0, 1);
    tree.set(2, 2);
    expect(tree.total).toBe(3);
    expect([0, 0.999, 1, 2.999].map((m) => tree.find(m))).toEqual([0, 0, 2, 2]); // mass 1 starts leaf 2's range
    expect(tree.find(3.5)).toBe(2); // past the total by rounding: the last non-empty leaf, not an empty right subtree
    const onlyFirst = new SumTree(4);
    onlyFirst.set(0, 1);
    expect(onlyFirst.find(1.5)).toBe(0);
  });

  it('steps from an empty leaf a rounding residue led to, to the nearest leaf with a priority', () => {
    const tree = drifted(new SumTree(4)); // the residue sits left of leaf 3
    tree.set(3, 1);
    expect(tree.find(0)).toBe(3); // the walk goes left on the residue, to an empty leaf, and steps right
    const right = new SumTree(4); // the residue sits right of leaf 0
    right.set(2, 0.1);
    right.set(3, 0.2);
    right.set(2, 0);
    right.set(3, 0);
    right.set(0, 1);
    expect(right.find(1)).toBe(0); // mass 1 goes right on the residue, to an empty leaf, and steps left
  });

  it('takes the right branch whenever the mass is past the left sum and the right side holds priority', () => {
    const tree = new SumTree(4);
    tree.set(2, 1);
    tree.set(3, 2);
    expect([0, 0.999, 1, 2.999].map((m) => tree.find(m))).toEqual([2, 2, 3, 3]);
  });

  it('goes left when a residue leaves the mass past the left sum but nothing to the right, instead of landing far off', () => {
    // Leaf 0 holds 1.1; leaves 2 and 3 were set and cleared, so their parent is exactly 0 while the
    // grandparent kept a residue (1.1000000000000005). Leaf 4 holds 5, nearer the right subtree's end.
    const tree = new SumTree(8);
    tree.set(0, 1.1);
    tree.set(2, 0.1);
    tree.set(3, 3);
    tree.set(2, 0);
    tree.set(3, 0);
    tree.set(4, 5);
    expect(tree.find(1.1)).toBe(0); // past leaf 0's range only by the residue: still leaf 0, not leaf 4
    expect(tree.find(1.2)).toBe(4);
  });

  it('says so when only a residue is left', () => {
    const tree = drifted(new SumTree(4));
    expect(tree.total).toBeGreaterThan(0);
    expect(() => tree.find(0)).toThrow('the sum tree holds no positive priority');
  });

  it('rebuilds its sums from the leaves every rebuildEvery updates, and on demand', () => {
    expect(drifted(new SumTree(4, 5)).total).toBeGreaterThan(0); // 4 updates: not yet
    expect(drifted(new SumTree(4, 4)).total).toBe(0); // the 4th update rebuilds: exact again
    const tree = drifted(new SumTree(4));
    tree.set(3, 1);
    tree.rebuild();
    expect(tree.total).toBe(1);
    const counting = new SumTree(4, 3);
    counting.set(0, 0.1);
    counting.set(1, 0.2);
    counting.set(0, 0); // the 3rd: rebuilt
    counting.set(1, 0);
    expect(counting.total).toBe(0); // rebuilt at 3 updates; the 4th took exactly 0.2 away from 0.2
  });

  it('refuses a priority that is negative, NaN or infinite, and takes 0', () => {
    const tree = new SumTree(2);
    for (const bad of [-1, -Number.MIN_VALUE, Number.NaN, Number.POSITIVE_INFINITY])
      expect(() => tree.set(0, bad)).toThrow(`priority must be finite and >= 0, got ${bad}`);
    tree.set(0, 0);
    tree.set(1, 2);
    expect([tree.get(0), tree.get(1), tree.total]).toEqual([0, 2, 2]);
  });

  it('clears every priority, and starts its rebuild count again', () => {
    const tree = new SumTree(4, 5);
    tree.set(0, 0.1);
    tree.set(1, 0.2);
    tree.clear();
    expect([tree.total, tree.get(0), tree.get(1)]).toEqual([0, 0, 0]);
    expect(drifted(tree).total).toBeGreaterThan(0); // 4 updates since the clear: below 5, so not rebuilt
  });
});
