/**
 * The dashboard's state (zustand): the latest snapshot, a rolling window of history
 * points for the charts, the event log, connection status, theme and page. The history
 * is trimmed by age, so the charts always show the last `windowMs`.
 */
import { createStore, type StoreApi } from 'zustand/vanilla';
import { useStore } from 'zustand';
import type { ConnectionStatus, DashboardSnapshot, EngineEvent } from './transport/types.js';

export const HISTORY_WINDOW_MS = 5 * 60 * 1000;
const MAX_EVENTS = 1000;

export interface HistoryPoint {
  t: number;
  requestsPerSecond: number;
  rowsPerSecond: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  queueP99Ms: number;
  computeP99Ms: number;
  loopDelayP99Ms: number;
  arenaUsedBytes: number;
  /** Queue depth by queue name. */
  depths: Record<string, number>;
  /** The experience buffer and the actor-learner loop (zero when the demo runs none). */
  insertsPerSecond: number;
  samplesPerSecond: number;
  /** Actors' mean return over their latest 20 episodes. */
  meanReturn: number;
}

export type Page = 'overview' | 'queues' | 'workers' | 'memory' | 'models' | 'experience' | 'endpoints' | 'events';
export type Theme = 'light' | 'dark';

export interface DashboardState {
  status: ConnectionStatus;
  statusDetail: string | null;
  snapshot: DashboardSnapshot | null;
  history: HistoryPoint[];
  events: EngineEvent[];
  page: Page;
  theme: Theme;
  receiveSnapshot: (snapshot: DashboardSnapshot) => void;
  receiveEvent: (event: EngineEvent) => void;
  setStatus: (status: ConnectionStatus, detail?: string) => void;
  setPage: (page: Page) => void;
  toggleTheme: () => void;
}

export function historyPoint(s: DashboardSnapshot): HistoryPoint {
  const models = s.engine.models;
  const first = models[0];
  return {
    t: s.engine.timeMs,
    requestsPerSecond: models.reduce((sum, m) => sum + m.requestsPerSecond, 0),
    rowsPerSecond: models.reduce((sum, m) => sum + m.rowsPerSecond, 0),
    p50Ms: first?.latencyMs.total.p50Ms ?? 0,
    p95Ms: first?.latencyMs.total.p95Ms ?? 0,
    p99Ms: first?.latencyMs.total.p99Ms ?? 0,
    queueP99Ms: first?.latencyMs.queue.p99Ms ?? 0,
    computeP99Ms: first?.latencyMs.compute.p99Ms ?? 0,
    loopDelayP99Ms: s.engine.eventLoopDelayMs.p99Ms,
    arenaUsedBytes: s.engine.arenaTotals.usedBytes,
    depths: Object.fromEntries(s.engine.queues.map((q) => [q.name, q.depth])),
    insertsPerSecond: s.experience?.insertsPerSecond ?? 0,
    samplesPerSecond: s.experience?.samplesPerSecond ?? 0,
    meanReturn: s.loop?.actors?.meanReturn ?? 0,
  };
}

/** Append a point and drop those older than the window (by the snapshot's own clock). */
export function appendHistory(history: HistoryPoint[], point: HistoryPoint, windowMs = HISTORY_WINDOW_MS): HistoryPoint[] {
  const cutoff = point.t - windowMs;
  let start = 0;
  while (start < history.length && history[start]!.t < cutoff) start++;
  const next = start > 0 ? history.slice(start) : history.slice();
  next.push(point);
  return next;
}

export function createDashboardStore(initialTheme: Theme = 'dark'): StoreApi<DashboardState> {
  return createStore<DashboardState>((set) => ({
    status: 'connecting',
    statusDetail: null,
    snapshot: null,
    history: [],
    events: [],
    page: 'overview',
    theme: initialTheme,
    receiveSnapshot: (snapshot) =>
      set((state) => ({
        snapshot,
        history: appendHistory(state.history, historyPoint(snapshot)),
        // The first snapshot carries the recent log; later ones arrive as events.
        events: state.events.length === 0 ? snapshot.engine.recentEvents.slice().reverse() : state.events,
      })),
    receiveEvent: (event) =>
      set((state) => (state.events.some((e) => e.seq === event.seq) ? state : { events: [event, ...state.events].slice(0, MAX_EVENTS) })),
    setStatus: (status, detail) => set({ status, statusDetail: detail ?? null }),
    setPage: (page) => set({ page }),
    toggleTheme: () => set((state) => ({ theme: state.theme === 'dark' ? 'light' : 'dark' })),
  }));
}

export const dashboardStore = createDashboardStore(
  typeof window !== 'undefined' && window.matchMedia?.('(prefers-color-scheme: light)').matches ? 'light' : 'dark',
);

export function useDashboard<T>(selector: (state: DashboardState) => T): T {
  return useStore(dashboardStore, selector);
}
