/**
 * Which versions of a model are loaded and why: the active one, warm ones kept for an
 * instant rollback (`keepWarm` counts the active one), and draining ones that still owe
 * answers to requests accepted for them. A version may be released once it is none of
 * these; the table says when, the pool does it.
 */
import type { ServedVersion } from './worker-pool.js';

export type VersionRole = 'active' | 'warm' | 'draining';

export class VersionTable {
  private activeServed: ServedVersion | undefined;
  /** Versions by how recently they were active, most recent first, at most keepWarm of them. */
  private kept: number[] = [];
  /** Requests accepted and not yet settled, per version. */
  private readonly refs = new Map<number, number>();

  constructor(private readonly model: string) {}

  get active(): ServedVersion {
    if (!this.activeServed) throw new Error(`model "${this.model}" has no active version before start()`);
    return this.activeServed;
  }

  get activeVersion(): number | undefined {
    return this.activeServed?.version;
  }

  /** Make `served` active, keeping the `keepWarm` most recently active versions. */
  activate(served: ServedVersion, keepWarm: number): void {
    this.activeServed = served;
    this.kept = [served.version, ...this.kept.filter((v) => v !== served.version)].slice(0, Math.max(1, keepWarm));
  }

  /** A request was accepted for `version`. */
  ref(version: number): void {
    this.refs.set(version, (this.refs.get(version) ?? 0) + 1);
  }

  /** A request for `version` settled; true when that was the last one and the version is no longer kept (release it). */
  unref(version: number): boolean {
    const left = (this.refs.get(version) ?? 1) - 1;
    if (left > 0) {
      this.refs.set(version, left);
      return false;
    }
    this.refs.delete(version);
    return !this.isKept(version);
  }

  pending(version: number): number {
    return this.refs.get(version) ?? 0;
  }

  isKept(version: number): boolean {
    return version === this.activeServed?.version || this.kept.includes(version);
  }

  role(version: number): VersionRole {
    return version === this.activeServed?.version ? 'active' : this.kept.includes(version) ? 'warm' : 'draining';
  }

  /** Of the loaded versions, those neither kept nor owed answers. */
  releasable(loaded: readonly number[]): number[] {
    return loaded.filter((v) => !this.isKept(v) && this.pending(v) === 0);
  }
}
