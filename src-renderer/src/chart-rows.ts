/** Telemetry history turned into the rows a time chart draws (kept apart from the JSX so it can be tested alone). */
import { HISTORY_WINDOW_MS, type HistoryPoint } from './store.js';

/** One line of a time chart: its key in the rows, its label, how to read it from a point, its colour. */
export interface Series {
  key: string;
  label: string;
  value: (p: HistoryPoint) => number;
  color: string;
}

/**
 * Rows a time chart draws at most. recharts' cost grows with every point, and five minutes
 * of telemetry at 4 Hz is 1,200 of them (measured with ~2,100 per line: the Overview page
 * took 61% of a browser core drawn in full, 45% capped). A chart a few hundred pixels wide
 * shows no more.
 */
export const MAX_CHART_ROWS = 300;

/**
 * The history as chart rows, at most `maxRows`: longer histories are merged into buckets of
 * `windowMs / maxRows` aligned to the clock, so a bucket keeps its points while the window
 * slides (buckets aligned to the array would reshuffle, and the lines jitter, at every
 * snapshot). A bucket shows each series' highest value: a latency spike or a full queue
 * must stay visible, not be averaged away.
 */
export function chartRows(
  history: readonly HistoryPoint[],
  series: readonly Series[],
  maxRows = MAX_CHART_ROWS,
  windowMs = HISTORY_WINDOW_MS,
): Record<string, number>[] {
  const bucketMs = history.length > maxRows ? windowMs / maxRows : 0;
  const rows: Record<string, number>[] = [];
  let bucket = NaN;
  for (const point of history) {
    const key = bucketMs > 0 ? Math.floor(point.t / bucketMs) : point.t;
    const last = rows.at(-1);
    if (last && key === bucket) {
      last.t = point.t;
      for (const s of series) last[s.key] = Math.max(last[s.key]!, s.value(point));
      continue;
    }
    bucket = key;
    const row: Record<string, number> = { t: point.t };
    for (const s of series) row[s.key] = s.value(point);
    rows.push(row);
  }
  return rows;
}
