/**
 * A time-series panel over the store's rolling window (recharts). The x axis is the
 * snapshot clock, so gaps while disconnected show as gaps.
 */
import type { ReactNode } from 'react';
import { CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
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
