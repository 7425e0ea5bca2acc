import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { SNAPSHOT_TAKEN } from '../../src-preload/channels.js';
import type { CommandReply, ServerMessage } from '../../src-preload/contract.js';
import type { ExportSelection } from '../../src-main/experience/export.js';
import type { DashboardSnapshot } from '../../src-preload/wire.js';
import { DashboardServer } from '../../src-main/server/dashboard-server.js';
import { until } from './helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A server whose snapshots are numbered as they are built, whose commands echo, and whose exports are recorded. */
async function startServer() {
  let built = 0;
  const executed: unknown[] = [];
  const exported: ExportSelection[] = [];
  const staticDir = mkdtempSync(join(tmpdir(), 'switchboard-static-'));
  const server = new DashboardServer({
    // Only the clock field is read here; the rest of a snapshot is the host's business.
    snapshot: () => ({ engine: { timeMs: ++built } }) as unknown as DashboardSnapshot,
    commands: {
      execute: (raw) => {
        executed.push(raw);
        return Promise.resolve<CommandReply>({ id: (raw as { id?: number }).id ?? -1, ok: true, result: null });
      },
    },
    exportExperience: (which) => {
      exported.push(which);
      return { bytes: new Uint8Array(4), items: 0 };
    },
    subscribeEvents: () => () => undefined,
    staticDir,
    telemetryHz: 30,
  });
  await server.start();
  cleanups.push(
    () => rmSync(staticDir, { recursive: true, force: true }),
    () => server.stop(),
  );
  return { server, executed, exported, staticDir, built: () => built };
}

/** A client that keeps every message it receives, in order; `takes` acknowledges each snapshot as the dashboard does. */
async function connect(server: DashboardServer, takes = false) {
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws?token=${server.token}`);
  const received: ServerMessage[] = [];
  ws.on('message', (data: Buffer) => {
    const message = JSON.parse(data.toString('utf8')) as ServerMessage;
    received.push(message);
    if (takes && message.type === 'snapshot') ws.send(JSON.stringify(SNAPSHOT_TAKEN));
  });
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  cleanups.push(() => ws.close());
  const snapshots = () => received.filter((m) => m.type === 'snapshot').length;
  /** A command round trip: every message the server sent before its reply has arrived once it is back. */
  let nextId = 1;
  const roundTrip = async () => {
    const id = nextId++;
    ws.send(JSON.stringify({ id, command: 'queue.pause', args: { model: 'm' } }));
    await until(() => received.some((m) => m.type === 'reply' && m.reply.id === id), 10_000, `reply ${id}`);
  };
  return { ws, snapshots, roundTrip };
}

describe('dashboard server telemetry', () => {
  it('sends a WebSocket client its next snapshot only once the client has taken the last one', async () => {
    const { server, executed, built } = await startServer();
    const client = await connect(server);
    await until(() => client.snapshots() === 1, 10_000, 'first snapshot');
    // Several telemetry ticks (30 Hz) pass while the client holds its snapshot untaken. A
    // slow machine can only make fewer ticks pass, so this cannot fail spuriously.
    await client.roundTrip();
    await new Promise((resolve) => setTimeout(resolve, 300));
    await client.roundTrip();
    expect(client.snapshots()).toBe(1);
    expect(built()).toBe(1); // nothing was even built for it
    // Taken: the next snapshot follows (ticks missed meanwhile send it without waiting for another).
    client.ws.send(JSON.stringify(SNAPSHOT_TAKEN));
    await until(() => client.snapshots() === 2, 10_000, 'second snapshot');
    // Anything else that looks like it is a command to validate, and does not release a snapshot.
    client.ws.send(JSON.stringify({ ...SNAPSHOT_TAKEN, extra: 1 }));
    await client.roundTrip();
    expect(executed).toContainEqual({ ...SNAPSHOT_TAKEN, extra: 1 });
    expect(client.snapshots()).toBe(2);
  });

  it('keeps each client to its own pace', async () => {
    const { server } = await startServer();
    const slow = await connect(server);
    const fast = await connect(server, true);
    await until(() => fast.snapshots() >= 5, 10_000, 'the fast client to take five snapshots');
    await slow.roundTrip();
    expect(slow.snapshots()).toBe(1);
  });
});

describe('dashboard server static files', () => {
  it('serves the files of its static folder and nothing outside it', async () => {
    const { server, staticDir } = await startServer();
    writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>dashboard</title>');
    mkdirSync(join(staticDir, 'assets'));
    writeFileSync(join(dirname(staticDir), `${basename(staticDir)}-secret.txt`), 'not for the browser');
    cleanups.push(() => rmSync(join(dirname(staticDir), `${basename(staticDir)}-secret.txt`), { force: true }));
    const get = (path: string) => fetch(`http://127.0.0.1:${server.port}${path}`);
    const page = await get('/');
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>dashboard</title>');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    expect((await get('/missing.js')).status).toBe(404);
    expect((await get('/assets')).status).toBe(404); // a folder is not a file
    // Out of the folder, encoded or not: the URL parser and the path check each stop it.
    expect((await get(`/../${basename(staticDir)}-secret.txt`)).status).toBe(404);
    expect((await get(`/%2e%2e/${basename(staticDir)}-secret.txt`)).status).toBe(404);
    expect((await get(`/..%2f${basename(staticDir)}-secret.txt`)).status).toBe(404);
    // Static files are read-only.
    const post = await fetch(`http://127.0.0.1:${server.port}/`, { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });
});

describe('dashboard server API routes', () => {
  it('answers a known path called with another method 405 with the method it takes, and an unknown path 404', async () => {
    const { server } = await startServer();
    const call = (method: string, path: string) =>
      fetch(`http://127.0.0.1:${server.port}${path}`, { method, headers: { Authorization: `Bearer ${server.token}` } });
    for (const [method, path, allowed] of [
      ['PUT', '/api/snapshot', 'GET'],
      ['GET', '/api/commands', 'POST'],
      ['DELETE', '/api/experience.npz', 'GET'],
    ] as const) {
      const reply = await call(method, path);
      expect(reply.status).toBe(405);
      expect(reply.headers.get('allow')).toBe(allowed);
      expect(await reply.json()).toEqual({
        ok: false,
        error: { code: 'METHOD_NOT_ALLOWED', message: `${path} takes ${allowed}, not ${method}` },
      });
    }
    expect((await call('GET', '/api/nothing')).status).toBe(404);
    // Without the token, the method is not even looked at.
    expect((await fetch(`http://127.0.0.1:${server.port}/api/snapshot`, { method: 'PUT' })).status).toBe(401);
  });
});

describe('dashboard server experience download', () => {
  it('takes the selection the export command takes, and refuses anything else before exporting', async () => {
    const { server, exported } = await startServer();
    const get = (query: string) =>
      fetch(`http://127.0.0.1:${server.port}/api/experience.npz${query}`, { headers: { Authorization: `Bearer ${server.token}` } });
    for (const query of ['', '?sample=5', `?newest=${2 ** 28}`]) expect((await get(query)).status).toBe(200);
    expect(exported).toEqual([{ kind: 'all' }, { kind: 'sample', items: 5 }, { kind: 'newest', items: 2 ** 28 }]);
    for (const bad of [
      '?sample=0',
      '?sample=-1',
      '?sample=1e3',
      '?sample=2.5',
      `?newest=${2 ** 28 + 1}`,
      '?all',
      '?sample=1&newest=2',
      '?items=3',
    ]) {
      const response = await get(bad);
      expect(response.status, bad).toBe(400);
      expect(await response.json()).toMatchObject({ error: { code: 'INVALID_QUERY' } });
    }
    expect(exported).toHaveLength(3); // nothing exported for a refused query
  });
});
