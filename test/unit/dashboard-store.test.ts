import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { WebSocket as NodeWebSocket, WebSocketServer } from 'ws';
import { SNAPSHOT_TAKEN } from '../../src-preload/channels.js';
import { appendHistory, createDashboardStore, type HistoryPoint } from '../../src-renderer/src/store.js';
import type { ConnectionStatus, DashboardSnapshot } from '../../src-renderer/src/transport/types.js';
import { WebSocketTransport } from '../../src-renderer/src/transport/websocket.js';
import { until } from '../integration/helpers.js';

const point = (t: number): HistoryPoint => ({
  t,
  requestsPerSecond: t,
  rowsPerSecond: t,
  p50Ms: 0,
  p95Ms: 0,
  p99Ms: 0,
  queueP99Ms: 0,
  computeP99Ms: 0,
  loopDelayP99Ms: 0,
  arenaUsedBytes: 0,
  depths: {},
  insertsPerSecond: 0,
  samplesPerSecond: 0,
  meanReturn: 0,
});

function snapshot(timeMs: number, seq = 0): DashboardSnapshot {
  return {
    engine: {
      timeMs,
      uptimeMs: 0,
      state: 'running',
      windowSeconds: 10,
      eventLoopDelayMs: { meanMs: 0, p50Ms: 0, p99Ms: 1, maxMs: 1 },
      models: [],
      queues: [{ name: 'q', depth: 3 } as DashboardSnapshot['engine']['queues'][number]],
      workers: [],
      arenas: [],
      arenaTotals: { capacityBytes: 0, usedBytes: 7, highWaterBytes: 0 },
      recentEvents: seq ? [{ seq, timeMs, level: 'info', kind: 'model-loaded', message: 'm' }] : [],
    },
    repository: null,
    processes: [],
    experience: null,
    loop: null,
  };
}

describe('dashboard store', () => {
  it('keeps a rolling window of history by the snapshot clock', () => {
    let history: HistoryPoint[] = [];
    for (let t = 0; t <= 10_000; t += 1000) history = appendHistory(history, point(t), 5000);
    expect(history.map((p) => p.t)).toEqual([5000, 6000, 7000, 8000, 9000, 10_000]);
    history = appendHistory(history, point(60_000), 5000);
    expect(history.map((p) => p.t)).toEqual([60_000]);
  });

  it('derives chart points from snapshots and de-duplicates events', () => {
    const store = createDashboardStore('dark');
    store.getState().receiveSnapshot(snapshot(1000, 1));
    store.getState().receiveSnapshot(snapshot(2000));
    const state = store.getState();
    expect(state.history).toHaveLength(2);
    expect(state.history[1]).toMatchObject({ t: 2000, arenaUsedBytes: 7, depths: { q: 3 }, loopDelayP99Ms: 1 });
    expect(state.events.map((e) => e.seq)).toEqual([1]);
    state.receiveEvent({ seq: 1, timeMs: 0, level: 'info', kind: 'model-loaded', message: 'again' });
    state.receiveEvent({ seq: 2, timeMs: 0, level: 'warn', kind: 'worker-hung', message: 'x' });
    expect(store.getState().events.map((e) => e.seq)).toEqual([2, 1]);
    store.getState().toggleTheme();
    expect(store.getState().theme).toBe('light');
  });
});

describe('WebSocket transport', () => {
  it('reconnects after the server restarts and resumes receiving snapshots', async () => {
    const first = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((r) => first.once('listening', r));
    const port = (first.address() as AddressInfo).port;
    const taken: unknown[] = [];
    const serve = (server: WebSocketServer, t: number) =>
      server.on('connection', (ws) => {
        ws.on('message', (data: Buffer) => taken.push(JSON.parse(data.toString('utf8'))));
        ws.send(JSON.stringify({ type: 'snapshot', snapshot: snapshot(t) }));
      });
    serve(first, 1);
    const statuses: ConnectionStatus[] = [];
    const times: number[] = [];
    const transport = new WebSocketTransport({
      url: `ws://127.0.0.1:${port}/ws`,
      minBackoffMs: 20,
      maxBackoffMs: 100,
      WebSocketImpl: NodeWebSocket as unknown as typeof WebSocket,
    });
    const received = (t: number) => until(() => times.includes(t), 10_000, `snapshot ${t}`);
    transport.connect({ snapshot: (s) => times.push(s.engine.timeMs), event: () => undefined, status: (s) => statuses.push(s) });
    await received(1);
    // The transport says it took the snapshot: the server sends the next one only then.
    await until(() => taken.length > 0, 10_000, 'the snapshot-taken message');
    expect(taken).toEqual([SNAPSHOT_TAKEN]);
    for (const client of first.clients) client.terminate();
    await new Promise((r) => first.close(r));
    // The command fails fast while disconnected, with a typed error.
    expect(await transport.command('queue.pause', { model: 'q' })).toMatchObject({ ok: false, error: { code: 'DISCONNECTED' } });
    const second = new WebSocketServer({ port, host: '127.0.0.1' });
    serve(second, 2);
    await received(2);
    expect(statuses).toContain('disconnected');
    expect(statuses.at(-1)).toBe('connected');
    transport.close();
    await new Promise((r) => second.close(r));
  });

  it('drops malformed telemetry before the store sees it, acknowledges the snapshot anyway, and keeps taking good ones', async () => {
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((r) => server.once('listening', r));
    const acks: unknown[] = [];
    server.on('connection', (ws) => {
      ws.on('message', (data: Buffer) => acks.push(JSON.parse(data.toString('utf8'))));
      ws.send('{not json');
      ws.send(JSON.stringify({ type: 'snapshot', snapshot: { engine: { models: 'many' }, processes: [] } }));
      ws.send(JSON.stringify({ type: 'event', event: { seq: 'one', message: 5 } }));
      ws.send(JSON.stringify({ type: 'reply', reply: null }));
      ws.send(JSON.stringify({ type: 'event', event: { seq: 1, timeMs: 1, level: 'info', kind: 'model-loaded', message: 'ok' } }));
      ws.send(JSON.stringify({ type: 'snapshot', snapshot: snapshot(7) }));
    });
    const times: number[] = [];
    const events: string[] = [];
    const warnings: string[] = [];
    const warn = console.warn;
    console.warn = (message: string) => warnings.push(message);
    const transport = new WebSocketTransport({
      url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws`,
      WebSocketImpl: NodeWebSocket as unknown as typeof WebSocket,
    });
    try {
      transport.connect({ snapshot: (s) => times.push(s.engine.timeMs), event: (e) => events.push(e.message), status: () => undefined });
      await until(() => times.length > 0, 10_000, 'the well-formed snapshot');
      expect(times).toEqual([7]);
      expect(events).toEqual(['ok']);
      // Both snapshots were acknowledged (a dropped one too), or telemetry would stall.
      await until(() => acks.length === 2, 10_000, 'two acknowledgements');
      expect(warnings).toHaveLength(3); // message, snapshot, event: each kind reported once
    } finally {
      console.warn = warn;
      transport.close();
      await new Promise((r) => server.close(r));
    }
  });
});
