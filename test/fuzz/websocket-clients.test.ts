/**
 * Clients that misbehave around the WebSocket rather than inside it: upgrades refused and
 * then reset at once (no token needed), and clients that acknowledge every snapshot but
 * never read their socket. Before the fix, the first crashed the process and the second
 * grew its memory without bound.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frame, openRaw, upgradeRequest, type OpenSocket } from './raw-socket.js';
import { expectHealthy, report, startProduct, type Product } from './product.js';

let product: Product;
beforeAll(async () => {
  // A served model without the CartPole loop, whose warm-up would grow the memory by itself and hide what the
  // clients do; at the fastest telemetry rate. Its snapshots are small (about 5 KB), so the kernel's socket
  // buffers take the first 30 s or so before the server's own buffer grows: the counters show the bound acting.
  product = await startProduct(['--demo', 'synthetic', '--load', '0', '--telemetry-hz', '30']);
});
afterAll(async () => {
  await product?.stop();
});

/** Send an upgrade and reset the connection (RST, not FIN) as soon as anything, or nothing, has come back. */
function upgradeThenReset(headers: string, waitForAnswer: boolean): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(product.port, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.once('connect', () => {
      socket.write(headers);
      if (!waitForAnswer) socket.resetAndDestroy();
    });
    socket.once('data', () => socket.resetAndDestroy());
    socket.once('close', () => resolve());
  });
}

describe('fuzz: WebSocket clients', () => {
  it('survives refused upgrades reset at once, with or without a token', async () => {
    const rssBefore = product.rssBytes();
    const kinds = [
      upgradeRequest(product.host, '/ws?token=wrong'),
      upgradeRequest(product.host, '/ws'),
      upgradeRequest('evil.example:80', `/ws?token=${product.token}`),
      upgradeRequest(product.host, `/ws?token=${product.token}`, { Origin: 'http://evil.example' }),
      upgradeRequest(product.host, '/elsewhere'),
      upgradeRequest(product.host, `/ws?token=${product.token}`), // accepted, then reset
    ];
    let sent = 0;
    for (let round = 0; round < 50; round++) {
      await Promise.all(kinds.map((k, i) => upgradeThenReset(k, (round + i) % 2 === 0)));
      sent += kinds.length;
    }
    const snapshot = await expectHealthy(product);
    const growthMb = (product.rssBytes() - rssBefore) / 1024 ** 2;
    report('refused-upgrades-with-reset', {
      sent,
      crashes: 0,
      refusedUpgrades: snapshot.server!.sockets.refusedUpgrades,
      socketErrors: snapshot.server!.sockets.socketErrors,
      rssGrowthMb: Math.round(growthMb),
    });
    expect(snapshot.server!.sockets.refusedUpgrades).toBeGreaterThanOrEqual(50 * 5 * 0.5); // at least every refusal answered before a reset
    expect(growthMb).toBeLessThan(50);
  });

  it('keeps its memory within 50 MB over 40 s of three clients that acknowledge snapshots but never read, and closes them', async () => {
    const rssBefore = product.rssBytes();
    const started = Date.now();
    // 40 s of three such clients, and on until the server has closed each one at least once (a hang limit of 100 s).
    // How soon it does depends on how much the kernel buffers before the server's own buffer grows.
    const measuredUntil = started + 40_000;
    const giveUpAt = started + 100_000;
    const ack = frame(0x1, Buffer.from('{"type":"snapshot-taken"}'));
    let connections = 0;
    let closedByServer = 0;
    let peakGrowthMb = 0;
    /** One client slot: connect, stop reading, acknowledge at 30 Hz; when the server closes it, connect again. */
    const slot = async () => {
      let closedOnce = false;
      while (Date.now() < giveUpAt && (Date.now() < measuredUntil || !closedOnce)) {
        const client: OpenSocket = await openRaw(product.port, product.host, `/ws?token=${product.token}&hz=30`);
        connections++;
        client.socket.pause(); // never read again
        let open = true;
        void client.closed.then(() => (open = false));
        while (open && Date.now() < giveUpAt && (Date.now() < measuredUntil || !closedOnce)) {
          if (client.socket.writable) client.socket.write(ack);
          await new Promise((r) => setTimeout(r, 33));
          peakGrowthMb = Math.max(peakGrowthMb, (product.rssBytes() - rssBefore) / 1024 ** 2);
        }
        if (!open) {
          closedOnce = true;
          closedByServer++;
        }
        client.socket.destroy();
      }
    };
    await Promise.all([slot(), slot(), slot()]);
    const snapshot = await expectHealthy(product);
    const afterMb = (product.rssBytes() - rssBefore) / 1024 ** 2;
    report('non-reading-clients', {
      seconds: Math.round((Date.now() - started) / 1000),
      connections,
      closedByServer,
      slowClientsClosed: snapshot.server!.sockets.slowClientsClosed,
      skippedSends: snapshot.server!.sockets.skippedSends,
      peakRssGrowthMb: Math.round(peakGrowthMb),
      rssGrowthAfterMb: Math.round(afterMb),
    });
    expect(snapshot.server!.sockets.skippedSends).toBeGreaterThan(0); // the bound held sends back
    expect(snapshot.server!.sockets.slowClientsClosed).toBeGreaterThanOrEqual(3); // and each client was closed for it
    expect(closedByServer).toBeGreaterThanOrEqual(3);
    expect(peakGrowthMb).toBeLessThan(50);
  }, 150_000);
});
