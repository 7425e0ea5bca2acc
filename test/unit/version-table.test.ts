import { describe, expect, it } from 'vitest';
import { VersionTable } from '../../src-main/engine/version-table.js';
import type { ServedVersion } from '../../src-main/engine/worker-pool.js';

const served = (version: number) => ({ version }) as ServedVersion;

describe('version table', () => {
  it('keeps the keepWarm most recently active versions, the active one counted', () => {
    const t = new VersionTable('m');
    expect(() => t.active).toThrow(/no active version/);
    t.activate(served(1), 2);
    t.activate(served(2), 2);
    t.activate(served(3), 2);
    expect([1, 2, 3].map((v) => t.role(v))).toEqual(['draining', 'warm', 'active']);
    expect(t.releasable([1, 2, 3])).toEqual([1]);
    t.activate(served(2), 1); // rollback with no spare kept
    expect(t.releasable([1, 2, 3])).toEqual([1, 3]);
  });

  it('counts a version made active again and again once among those kept warm', () => {
    const t = new VersionTable('m');
    for (const v of [1, 2, 1, 1]) t.activate(served(v), 2);
    expect([1, 2].map((v) => t.role(v))).toEqual(['active', 'warm']);
    expect(t.isKept(2)).toBe(true);
  });

  it('holds a version while requests accepted for it are unanswered, and says when the last one lets it go', () => {
    const t = new VersionTable('m');
    t.activate(served(1), 1);
    t.ref(1);
    t.ref(1);
    t.activate(served(2), 1);
    expect(t.releasable([1, 2])).toEqual([]); // still owed two answers
    expect(t.role(1)).toBe('draining');
    expect(t.unref(1)).toBe(false);
    expect(t.pending(1)).toBe(1);
    expect(t.unref(1)).toBe(true); // the last answer: release it
    t.ref(2);
    expect(t.unref(2)).toBe(false); // the active version stays
  });
});
