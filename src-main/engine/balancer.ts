/**
 * Which worker takes the next batch, kept pure (as Piscina keeps its own balancer): among
 * the workers that can take it, a ready one before a degraded one, then the one expected
 * to finish what it holds first, if batches take their recent time per row.
 */
export interface BalancerCandidate {
  readonly state: string;
  readonly inflight: { values(): Iterable<{ readonly dispatchedAt: number; readonly rows: number }> };
}

/** When a worker should be done with its batches. */
export function freeAt(candidate: BalancerCandidate, msPerRow: number): number {
  let at = -Infinity;
  for (const batch of candidate.inflight.values()) at = Math.max(at, batch.dispatchedAt) + batch.rows * msPerRow;
  return at;
}

/** `eligible`: serving, not reserved for a load, holding the version, with a free arena slot. No allocation: this runs per batch. */
export function pickWorker<C extends BalancerCandidate>(
  candidates: Iterable<C>,
  eligible: (c: C) => boolean,
  msPerRow: number,
): C | undefined {
  let best: C | undefined;
  let bestFreeAt = Infinity;
  for (const c of candidates) {
    if (!eligible(c)) continue;
    const at = freeAt(c, msPerRow);
    if (!best || (best.state === 'degraded' && c.state === 'ready') || (best.state === c.state && at < bestFreeAt)) {
      best = c;
      bestFreeAt = at;
    }
  }
  return best;
}

/** The recent compute time per row, a moving average (the first batch sets it). */
export function nextMsPerRow(current: number, computeMs: number, rows: number): number {
  const perRow = computeMs / rows;
  return current === 0 ? perRow : current * 0.9 + perRow * 0.1;
}
