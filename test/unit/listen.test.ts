/** Taking an address: the port bound comes back, and a port in use is a ListenError naming it. */
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { listen, ListenError } from '../../src-main/server/listen.js';

const open: ReturnType<typeof createServer>[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => new Promise((r) => s.close(r))));
});

describe('listen', () => {
  it('gives the port bound when any free port was asked for', async () => {
    const server = createServer();
    open.push(server);
    const port = await listen(server, 0, '127.0.0.1');
    expect(port).toBeGreaterThan(0);
    expect(server.address()).toMatchObject({ address: '127.0.0.1', port });
  });

  it('refuses a port in use with a ListenError that names it, and leaves the second server closed', async () => {
    const first = createServer();
    open.push(first);
    const port = await listen(first, 0, '127.0.0.1');
    const second = createServer();
    const refused = await listen(second, port, '127.0.0.1').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ListenError);
    expect(refused).toMatchObject({ systemCode: 'EADDRINUSE', port, message: `127.0.0.1:${port} is already in use` });
    expect(second.listening).toBe(false);
  });
});
