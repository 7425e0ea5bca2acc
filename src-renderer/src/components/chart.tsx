/**
 * A time-series panel over the store's rolling window (recharts). The x axis is the
 * snapshot clock, so gaps while disconnected show as gaps.
 */
import type { ReactNode } from 'react';
import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { HistoryPoint } from '../store.js';

export interface Series {
  key: string;
  label: string;
  value: (p: HistoryPoint) => number;
  color: string;
}

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

export function TimeChart(props: { title: string; history: HistoryPoint[]; series: Series[]; unit?: string; testId?: string }): ReactNode {
  const data = props.history.map((p) => {
    const row: Record<string, number> = { t: p.t };
    for (const s of props.series) row[s.key] = s.value(p);
    return row;
  });
  return (
    <ChartPanel title={props.title} testId={props.testId} empty={data.length < 2 ? 'Collecting data…' : null}>
      <LineChart data={data} margin={MARGIN}>
        {GRID}
        <XAxis
          dataKey="t"
          type="number"
          domain={['dataMin', 'dataMax']}
          tickFormatter={(t: number) => new Date(t).toLocaleTimeString()}
          stroke="var(--muted)"
        />
        <YAxis stroke="var(--muted)" width={56} unit={props.unit} />
        <Tooltip labelFormatter={(t) => new Date(Number(t)).toLocaleTimeString()} contentStyle={TOOLTIP_STYLE} />
        <Legend />
        {props.series.map((s) => (
          <Line key={s.key} dataKey={s.key} name={s.label} stroke={s.color} dot={false} isAnimationActive={false} />
        ))}
      </LineChart>
    </ChartPanel>
  );
}

/** A distribution as bars, e.g. priorities by decade or policy lag by versions behind. */
export function BarPanel(props: {
  title: string;
  bars: { label: string; value: number }[];
  valueLabel: string;
  testId?: string;
  empty: string;
}): ReactNode {
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
}

/** y against a numeric x that is not time (e.g. a return per policy version). */
export function XyChart(props: {
  title: string;
  points: { x: number; y: number }[];
  xLabel: string;
  yLabel: string;
  testId?: string;
  empty: string;
}): ReactNode {
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
}
