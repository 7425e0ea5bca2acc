/**
 * Number formatting shared by the headless status line and the dashboard, so a figure
 * reads the same in both.
 */
// One formatter, made once: toLocaleString builds a new one at every call, which cost the
// dashboard a noticeable share of each render.
const grouped = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

export function count(n: number): string {
  return grouped.format(Math.round(n));
}

export function ms(n: number): string {
  return n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);
}

export function bytes(n: number): string {
  if (n >= 1 << 30) return `${(n / (1 << 30)).toFixed(1)} GiB`;
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MiB`;
  if (n >= 1 << 10) return `${(n / (1 << 10)).toFixed(0)} KiB`;
  return `${n} B`;
}

export function percent(fraction: number): string {
  return `${(fraction * 100).toFixed(0)}%`;
}

// As toLocaleTimeString() writes it, with the formatter made once (a page shows hundreds).
const clock = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit', second: '2-digit' });

/** Time of day in the viewer's locale, e.g. 6:00:13 PM. */
export function timeOfDay(ms: number): string {
  return clock.format(ms);
}
