/** The event log, filterable by level and text. */
import { useState, type ReactNode } from 'react';
import { timeOfDay } from '../../../src-preload/format.js';
import { useDashboard } from '../store.js';

export function Events(): ReactNode {
  const events = useDashboard((s) => s.events);
  const [level, setLevel] = useState<'all' | 'info' | 'warn' | 'error'>('all');
  const [text, setText] = useState('');
  const needle = text.trim().toLowerCase();
  const shown = events.filter(
    (e) =>
      (level === 'all' || e.level === level) && (needle === '' || `${e.kind} ${e.message} ${e.model ?? ''}`.toLowerCase().includes(needle)),
  );
  return (
    <section className="panel">
      <div className="controls">
        <label>
          Level{' '}
          <select value={level} onChange={(e) => setLevel(e.target.value as typeof level)} data-testid="events-level">
            <option value="all">all</option>
            <option value="info">info</option>
            <option value="warn">warn</option>
            <option value="error">error</option>
          </select>
        </label>
        <label>
          Filter{' '}
          <input
            type="search"
            value={text}
            onChange={(e) => setText(e.target.value)}
            placeholder="swap, restart, rejected…"
            data-testid="events-filter"
          />
        </label>
        <span className="muted">
          {shown.length} of {events.length}
        </span>
      </div>
      {shown.length === 0 ? (
        <p className="empty">No event matches.</p>
      ) : (
        <ol className="events" data-testid="events-list">
          {shown.map((e) => (
            <li key={e.seq} className={`level-${e.level}`}>
              <time>{timeOfDay(e.timeMs)}</time> <span className="kind">{e.kind}</span> {e.message}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
