/** The dashboard shell: navigation, connection state, theme, and the current page. */
import { useEffect, type ReactNode } from 'react';
import { Endpoints } from './pages/endpoints.js';
import { Events } from './pages/events.js';
import { Experience } from './pages/experience.js';
import { Memory } from './pages/memory.js';
import { Models } from './pages/models.js';
import { Overview } from './pages/overview.js';
import { Queues } from './pages/queues.js';
import { Workers } from './pages/workers.js';
import { useDashboard, type Page } from './store.js';

const PAGES: { id: Page; label: string; render: () => ReactNode }[] = [
  { id: 'overview', label: 'Overview', render: () => <Overview /> },
  { id: 'queues', label: 'Queues', render: () => <Queues /> },
  { id: 'workers', label: 'Workers', render: () => <Workers /> },
  { id: 'memory', label: 'Shared memory', render: () => <Memory /> },
  { id: 'models', label: 'Models', render: () => <Models /> },
  { id: 'experience', label: 'Experience', render: () => <Experience /> },
  { id: 'endpoints', label: 'Endpoints', render: () => <Endpoints /> },
  { id: 'events', label: 'Events', render: () => <Events /> },
];

const STATUS_TEXT = {
  connecting: 'Connecting to the engine…',
  connected: 'Connected',
  disconnected: 'Disconnected from the engine',
  unauthorized: 'Not authorized: open the URL the server printed, with its token',
} as const;

export function App(): ReactNode {
  const status = useDashboard((s) => s.status);
  const detail = useDashboard((s) => s.statusDetail);
  const snapshot = useDashboard((s) => s.snapshot);
  const page = useDashboard((s) => s.page);
  const setPage = useDashboard((s) => s.setPage);
  const theme = useDashboard((s) => s.theme);
  const toggleTheme = useDashboard((s) => s.toggleTheme);
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
  }, [theme]);
  const current = PAGES.find((p) => p.id === page)!;
  return (
    <div className="app">
      <header>
        <h1>Switchboard</h1>
        <span className={`status status-${status}`} data-testid="connection-status" role="status">
          {STATUS_TEXT[status]}
          {detail && status !== 'connected' ? ` (${detail})` : ''}
        </span>
        {snapshot && (
          <span className="muted">
            engine {snapshot.engine.state}, up {Math.round(snapshot.engine.uptimeMs / 1000)} s
          </span>
        )}
        <button type="button" onClick={toggleTheme} data-testid="theme-toggle" aria-label="Toggle light and dark theme">
          {theme === 'dark' ? 'Light theme' : 'Dark theme'}
        </button>
      </header>
      <nav aria-label="Pages">
        {PAGES.map((p) => (
          <button
            key={p.id}
            type="button"
            aria-current={p.id === page ? 'page' : undefined}
            onClick={() => setPage(p.id)}
            data-testid={`nav-${p.id}`}
          >
            {p.label}
          </button>
        ))}
      </nav>
      <main aria-live="polite">
        <h2 className="page-title">{current.label}</h2>
        {snapshot === null ? (
          <p className="empty" data-testid="empty-state">
            {status === 'connected' ? 'Waiting for the first snapshot…' : `${STATUS_TEXT[status]}. Figures appear once the engine answers.`}
          </p>
        ) : (
          <>
            {status !== 'connected' && <p className="banner warn">{STATUS_TEXT[status]}: the figures below are the last ones received.</p>}
            {snapshot.engine.models.length === 0 && page === 'overview' ? (
              <p className="empty">
                No model is serving yet. Publish one into the repository{snapshot.repository ? ` at ${snapshot.repository.root}` : ''}.
              </p>
            ) : (
              current.render()
            )}
          </>
        )}
      </main>
    </div>
  );
}
