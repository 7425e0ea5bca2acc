/**
 * A time-series panel over the store's rolling window (recharts). The x axis is the
 * snapshot clock, so gaps while disconnected show as gaps.
 */
import { memo, type ReactNode } from 'react';
import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { timeOfDay } from '../../../src-preload/format.js';
import { chartRows, type Series } from '../chart-rows.js';
import type { HistoryPoint } from '../store.js';

const COLORS = ['#4e9af1', '#f1a34e', '#5cc08a', '#d45d79', '#a78bfa', '#eab308'];
export const color = (i: number): string => COLORS[i % COLORS.length]!;

/** The frame every chart shares: a titled panel, a note while there is nothing to draw, and a responsive box. */
function ChartPanel(props: { title: string; testId?: string; empty: string | null; children: ReactNode }): ReactNode {
  return (
    <section className="panel chart" data-testid={props.testId}>
      <h3>{props.title}</h3>
      {props.empty !== null ? (
        <p className="empty">{props.empty}</p>
      ) : (
        <ResponsiveContainer width="100%" height={180}>
          {props.children}
        </ResponsiveContainer>
      )}
    </section>
  );
}

const GRID = <CartesianGrid strokeDasharray="3 3" stroke="var(--grid)" />;
const TOOLTIP_STYLE = { background: 'var(--panel)', border: '1px solid var(--border)' };
const MARGIN = { top: 4, right: 12, bottom: 0, left: 0 };

interface TimeChartProps {
  title: string;
  history: HistoryPoint[];
  series: Series[];
  unit?: string;
  testId?: string;
}

/**
 * Redrawn at most once a second of the snapshot clock, though telemetry comes at 4 Hz:
 * a line over minutes gains nothing from more, and every redraw of a recharts chart
 * costs the page's thread milliseconds (all redrawn at 4 Hz, the charts kept a browser
 * core busy and made the page fall behind on a loaded machine).
 */
export const TimeChart = memo(
  function TimeChart(props: TimeChartProps): ReactNode {
    const data = chartRows(props.history, props.series);
    return (
      <ChartPanel title={props.title} testId={props.testId} empty={data.length < 2 ? 'Collecting data…' : null}>
        <LineChart data={data} margin={MARGIN}>
          {GRID}
          <XAxis dataKey="t" type="number" domain={['dataMin', 'dataMax']} tickFormatter={timeOfDay} stroke="var(--muted)" />
          <YAxis stroke="var(--muted)" width={56} unit={props.unit} />
          <Tooltip labelFormatter={(t) => timeOfDay(Number(t))} contentStyle={TOOLTIP_STYLE} />
          <Legend />
          {props.series.map((s) => (
            <Line key={s.key} dataKey={s.key} name={s.label} stroke={s.color} dot={false} isAnimationActive={false} />
          ))}
        </LineChart>
      </ChartPanel>
    );
  },
  (a, b) =>
    sameExcept(a, b, ['history', 'series']) &&
    drawnSecond(a.history) === drawnSecond(b.history) &&
    // A page writes its series inline (new functions each render); their keys, labels and colours say what is drawn.
    sameRows(a.series, b.series, (x, y) => x.key === y.key && x.label === y.label && x.color === y.color),
);

function drawnSecond(history: HistoryPoint[]): string {
  const last = history.at(-1);
  return last ? `${Math.floor(last.t / 1000)}:${Math.min(history.length, 2)}` : 'empty';
}

/** Every prop but `except` is the same value (===). */
function sameExcept<P extends object>(a: P, b: P, except: (keyof P)[]): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)] as (keyof P)[]);
  for (const key of keys) if (!except.includes(key) && a[key] !== b[key]) return false;
  return true;
}

function sameRows<T>(a: readonly T[], b: readonly T[], same: (x: T, y: T) => boolean): boolean {
  return a.length === b.length && a.every((x, i) => same(x, b[i]!));
}

/**
 * memo's comparison for a chart drawn from one array prop: the other props are the same
 * values, and the array's rows are the same by `sameRow` (a page builds the array anew at
 * every snapshot, so its identity says nothing).
 */
function sameChart<P extends object, K extends keyof P>(
  rowsKey: K,
  sameRow: (x: RowOf<P[K]>, y: RowOf<P[K]>) => boolean,
): (a: P, b: P) => boolean {
  return (a, b) => sameExcept(a, b, [rowsKey]) && sameRows(a[rowsKey] as RowOf<P[K]>[], b[rowsKey] as RowOf<P[K]>[], sameRow);
}

type RowOf<A> = A extends readonly (infer R)[] ? R : never;

interface BarPanelProps {
  title: string;
  bars: { label: string; value: number }[];
  valueLabel: string;
  testId?: string;
  empty: string;
}

/** A distribution as bars, e.g. priorities by decade or policy lag by versions behind; redrawn only when a bar changes. */
export const BarPanel = memo(
  function BarPanel(props: BarPanelProps): ReactNode {
    return (
      <ChartPanel title={props.title} testId={props.testId} empty={props.bars.length === 0 ? props.empty : null}>
        <BarChart data={props.bars} margin={MARGIN}>
          {GRID}
          <XAxis dataKey="label" stroke="var(--muted)" />
          <YAxis stroke="var(--muted)" width={56} />
          <Tooltip contentStyle={TOOLTIP_STYLE} />
          <Bar dataKey="value" name={props.valueLabel} fill={color(0)} isAnimationActive={false} />
        </BarChart>
      </ChartPanel>
    );
  },
  sameChart<BarPanelProps, 'bars'>('bars', (x, y) => x.label === y.label && x.value === y.value),
);

interface XyChartProps {
  title: string;
  points: { x: number; y: number }[];
  xLabel: string;
  yLabel: string;
  testId?: string;
  empty: string;
}

/** y against a numeric x that is not time (e.g. a return per policy version); redrawn only when a point changes. */
export const XyChart = memo(
  function XyChart(props: XyChartProps): ReactNode {
    return (
      <ChartPanel title={props.title} testId={props.testId} empty={props.points.length === 0 ? props.empty : null}>
        <LineChart data={props.points} margin={MARGIN}>
          {GRID}
          <XAxis dataKey="x" type="number" domain={['dataMin', 'dataMax']} stroke="var(--muted)" allowDecimals={false} />
          <YAxis stroke="var(--muted)" width={56} />
          <Tooltip labelFormatter={(x) => `${props.xLabel} ${typeof x === 'number' ? x : ''}`} contentStyle={TOOLTIP_STYLE} />
          <Line dataKey="y" name={props.yLabel} stroke={color(2)} isAnimationActive={false} />
        </LineChart>
      </ChartPanel>
    );
  },
  sameChart<XyChartProps, 'points'>('points', (p, q) => p.x === q.x && p.y === q.y),
);
