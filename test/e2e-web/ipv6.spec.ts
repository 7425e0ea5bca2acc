/**
 * The dashboard on the IPv6 loopback (--bind ::1): the printed URL brackets the address,
 * and the page connects (the Host and origin checks take [::1]:PORT, and the CSP lets the
 * page's own WebSocket through without naming an IPv6 literal, which Chromium refuses).
 */
import { createServer } from 'node:net';
import { expect, test } from '@playwright/test';
import { startServer, type RunningServer } from './server.js';

async function ipv6LoopbackMissing(): Promise<string | undefined> {
  return new Promise((resolve) => {
    const probe = createServer()
      .once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message))
      .listen(0, '::1', () => probe.close(() => resolve(undefined)));
  });
}

test.describe('dashboard on ::1', () => {
  let server: RunningServer | undefined;

  test.afterAll(async () => {
    await server?.stop();
  });

  test('prints a bracketed URL and the page connects over the IPv6 loopback', async ({ page }) => {
    const missing = await ipv6LoopbackMissing();
    test.skip(missing !== undefined, `this machine has no IPv6 loopback (${missing})`);
    server = await startServer(['--bind', '::1', '--demo', 'synthetic', '--load', '0']);
    expect(server.url).toMatch(/^http:\/\/\[::1\]:\d+\/\?token=/);
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(server.url);
    await expect(page.getByTestId('connection-status')).toHaveText('Connected');
    expect(new URL(page.url()).host).toBe(new URL(server.url).host);
    expect(new URL(page.url()).searchParams.has('token')).toBe(false);
    const response = await page.request.get(`${server.origin}/`);
    expect(response.headers()['content-security-policy']).toContain("connect-src 'self';");
    expect(errors.filter((e) => /Content Security Policy|WebSocket/.test(e))).toEqual([]);
  });
});
