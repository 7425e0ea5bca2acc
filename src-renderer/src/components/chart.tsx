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

export function TimeChart(props: { title: string; history: HistoryPoint[]; series: Series[]; unit?: string; testId?: string }): ReactNode {
  const data = props.history.map((p) => {
    const row: Record<string, number> = { t: p.t };
    for (const s of props.series) row[s.key] = s.value(p);
    return row;
  });
  return (
    <section className="panel chart" data-testid={props.testId}>
      <h3>{props.title}</h3>
      {data.length < 2 ? (
        <p className="empty">Collecting data…</p>
      ) : (
        <ResponsiveContainer width="100%" height={180}>
          <LineChart data={data} margin={{ top: 4, right: 12, bottom: 0, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="var(--grid)" />
            <XAxis
              dataKey="t"
              type="number"
              domain={['dataMin', 'dataMax']}
              tickFormatter={(t: number) => new Date(t).toLocaleTimeString()}
              stroke="var(--muted)"
            />
            <YAxis stroke="var(--muted)" width={56} unit={props.unit} />
            <Tooltip
              labelFormatter={(t) => new Date(Number(t)).toLocaleTimeString()}
              contentStyle={{ background: 'var(--panel)', border: '1px solid var(--border)' }}
            />
            <Legend />
            {props.series.map((s) => (
              <Line key={s.key} dataKey={s.key} name={s.label} stroke={s.color} dot={false} isAnimationActive={false} />
            ))}
          </LineChart>
        </ResponsiveContainer>
      )}
    </section>
  );
}

/** A distribution as bars (recharts), e.g. priorities by decade or policy lag by versions behind. */
export function BarPanel(props: {
  title: string;
  bars: { label: string; value: number }[];
  valueLabel: string;
  testId?: string;
  empty?: string;
}): ReactNode {
  return (
    <section className="panel chart" data-testid={props.testId}>
      <h3>{props.title}</h3>
      {props.bars.length === 0 ? (
        <p className="empty">{props.empty ?? 'No data yet.'}</p>
      ) : (
        <ResponsiveContainer width="100%" height={180}>
          <BarChart data={props.bars} margin={{ top: 4, right: 12, bottom: 0, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="var(--grid)" />
            <XAxis dataKey="label" stroke="var(--muted)" />
            <YAxis stroke="var(--muted)" width={56} />
            <Tooltip contentStyle={{ background: 'var(--panel)', border: '1px solid var(--border)' }} />
            <Bar dataKey="value" name={props.valueLabel} fill={color(0)} isAnimationActive={false} />
          </BarChart>
        </ResponsiveContainer>
      )}
    </section>
  );
}

/** y against a numeric x that is not time (e.g. a return per policy version). */
export function XyChart(props: {
  title: string;
  points: { x: number; y: number }[];
  xLabel: string;
  yLabel: string;
  testId?: string;
  empty?: string;
}): ReactNode {
  return (
    <section className="panel chart" data-testid={props.testId}>
      <h3>{props.title}</h3>
      {props.points.length === 0 ? (
        <p className="empty">{props.empty ?? 'No data yet.'}</p>
      ) : (
        <ResponsiveContainer width="100%" height={180}>
          <LineChart data={props.points} margin={{ top: 4, right: 12, bottom: 0, left: 0 }}>
            <CartesianGrid strokeDasharray="3 3" stroke="var(--grid)" />
            <XAxis dataKey="x" type="number" domain={['dataMin', 'dataMax']} stroke="var(--muted)" allowDecimals={false} />
            <YAxis stroke="var(--muted)" width={56} />
            <Tooltip
              labelFormatter={(x) => `${props.xLabel} ${typeof x === 'number' ? x : ''}`}
              contentStyle={{ background: 'var(--panel)', border: '1px solid var(--border)' }}
            />
            <Line dataKey="y" name={props.yLabel} stroke={color(2)} isAnimationActive={false} />
          </LineChart>
        </ResponsiveContainer>
      )}
    </section>
  );
}
