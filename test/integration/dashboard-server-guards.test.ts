/**
 * The dashboard server's guards one by one: the token traded for a cookie, the Host and
 * Origin checks, and the per-socket buffer bound with a client that never reads.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { CommandReply } from '../../src-preload/contract.js';
import type { DashboardSnapshot } from '../../src-preload/wire.js';
import { DashboardServer, type DashboardServerOptions } from '../../src-main/server/dashboard-server.js';
import { frame, openRaw } from '../fuzz/raw-socket.js';
import { until } from './helpers.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startServer(options: Partial<DashboardServerOptions> = {}) {
  const staticDir = mkdtempSync(join(tmpdir(), 'switchboard-static-'));
  writeFileSync(join(staticDir, 'index.html'), '<!doctype html><title>dashboard</title>');
  const executed: unknown[] = [];
  const server = new DashboardServer({
    snapshot: () => ({ engine: { timeMs: Date.now() } }) as unknown as DashboardSnapshot,
    commands: {
      execute: (raw) => {
        executed.push(raw);
        return Promise.resolve<CommandReply>({ id: 1, ok: true, result: null });
      },
    },
    subscribeEvents: () => () => undefined,
    staticDir,
    telemetryHz: 30,
    log: () => undefined,
    ...options,
  });
  await server.start();
  cleanups.push(
    () => rmSync(staticDir, { recursive: true, force: true }),
    () => server.stop(),
  );
  return { server, executed, base: `http://127.0.0.1:${server.port}` };
}

describe('dashboard server guards', () => {
  it('trades the page token for an HttpOnly SameSite=Strict cookie and a clean URL; the cookie then authorizes the API', async () => {
    const { server, base } = await startServer();
    const first = await fetch(`${base}/?token=${server.token}&hz=10`, { redirect: 'manual' });
    expect(first.status).toBe(303);
    expect(first.headers.get('location')).toBe('/?hz=10');
    const cookie = first.headers.get('set-cookie')!;
    expect(cookie).toMatch(new RegExp(`^switchboard-token-${server.port}=${server.token}; Path=/; HttpOnly; SameSite=Strict$`));
    const pair = cookie.split(';')[0]!;
    expect((await fetch(`${base}/api/snapshot`, { headers: { Cookie: pair } })).status).toBe(200);
    expect((await fetch(`${base}/api/snapshot`, { headers: { Cookie: `${pair}x` } })).status).toBe(401);
    // The API takes no token in its URL: it would end up in logs and the history.
    expect((await fetch(`${base}/api/snapshot?token=${server.token}`)).status).toBe(401);
    // A wrong token clears the cookie instead.
    const wrong = await fetch(`${base}/?token=nope`, { redirect: 'manual' });
    expect(wrong.headers.get('set-cookie')).toMatch(/=; Max-Age=0;/);
  });

  it('answers 421 to a Host that is not its own, on pages, the API and the WebSocket', async () => {
    const { server } = await startServer();
    const status = (path: string, host: string) =>
      new Promise<number>((resolve, reject) => {
        const req = httpRequest(
          { host: '127.0.0.1', port: server.port, path, headers: { Host: host, Authorization: `Bearer ${server.token}` }, setHost: false },
          (res) => {
            res.resume();
            resolve(res.statusCode!);
          },
        );
        req.on('error', reject);
        req.end();
      });
    for (const path of ['/', '/api/snapshot']) {
      expect(await status(path, `rebound.example:${server.port}`)).toBe(421);
      expect(await status(path, `localhost:${server.port}`)).toBe(200);
    }
    expect(server.stats().refusedRequests).toBe(2);
    const ok = await openRaw(server.port, `localhost:${server.port}`, `/ws?token=${server.token}`);
    ok.socket.destroy();
    await expect(openRaw(server.port, `rebound.example:${server.port}`, `/ws?token=${server.token}`)).rejects.toThrow(/421/);
    expect(server.stats().sockets.refusedUpgrades).toBe(1);
  });

  it('refuses a WebSocket from a foreign origin, and takes one from its own', async () => {
    const { server } = await startServer();
    const host = `127.0.0.1:${server.port}`;
    await expect(openRaw(server.port, host, `/ws?token=${server.token}`, { Origin: 'http://evil.example' })).rejects.toThrow(/403/);
    await expect(openRaw(server.port, host, `/ws?token=${server.token}`, { Origin: `http://localhost:${server.port}` })).rejects.toThrow(
      /403/,
    );
    const own = await openRaw(server.port, host, `/ws?token=${server.token}`, { Origin: `http://${host}` });
    own.socket.destroy();
  });

  it('runs a command only for JSON from its own origin', async () => {
    const { server, executed, base } = await startServer();
    const post = (headers: Record<string, string>) =>
      fetch(`${base}/api/commands`, {
        method: 'POST',
        body: '{"id":1,"command":"queue.pause","args":{"model":"m"}}',
        headers: { Authorization: `Bearer ${server.token}`, ...headers },
      });
    expect((await post({ 'Content-Type': 'text/plain' })).status).toBe(415);
    expect((await post({ 'Content-Type': 'application/json', Origin: 'http://evil.example' })).status).toBe(403);
    expect(executed).toEqual([]);
    expect((await post({ 'Content-Type': 'application/json; charset=utf-8', Origin: base })).status).toBe(200);
    expect(executed).toHaveLength(1);
  });

  it('stops sending to a client over its buffer bound and closes it once it stays over; the others are served', async () => {
    const big = 'x'.repeat(256 * 1024);
    const { server } = await startServer({
      snapshot: () => ({ engine: { timeMs: Date.now() }, padding: big }) as unknown as DashboardSnapshot,
      socketLimits: { maxPayloadBytes: 64 * 1024, maxBufferedBytes: 128 * 1024, slowClientTimeoutMs: 500 },
    });
    const slow = await openRaw(server.port, `127.0.0.1:${server.port}`, `/ws?token=${server.token}`);
    slow.socket.pause();
    const ack = frame(0x1, Buffer.from('{"type":"snapshot-taken"}'));
    const acking = setInterval(() => slow.socket.writable && slow.socket.write(ack), 20);
    let healthySnapshots = 0;
    const healthy = new WebSocket(`ws://127.0.0.1:${server.port}/ws?token=${server.token}`);
    healthy.on('message', () => {
      healthySnapshots++;
      healthy.send('{"type":"snapshot-taken"}');
    });
    await slow.closed; // the server closed it: before the fix it buffered forever
    clearInterval(acking);
    const stats = server.stats().sockets;
    expect(stats.slowClientsClosed).toBe(1);
    expect(stats.skippedSends).toBeGreaterThan(0);
    const seen = healthySnapshots;
    await until(() => healthySnapshots > seen + 3, 10_000, 'the reading client to go on receiving');
    healthy.close();
  });
});
