/**
 * Every class of malformed WebSocket frame against the real product: each closes that
 * socket with the code the protocol gives it, is counted, and leaves the product
 * running and answering. Before the fix, any one of them killed the process.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { closeCodeIn, frame, openRaw } from './raw-socket.js';
import { expectHealthy, report, startProduct, type Product } from './product.js';

let product: Product;
beforeAll(async () => {
  product = await startProduct();
});
afterAll(async () => {
  await product?.stop();
});

const close = (code: number, reason = '') => {
  const payload = Buffer.alloc(2 + reason.length);
  payload.writeUInt16BE(code, 0);
  payload.write(reason, 2);
  return payload;
};

/** Frames `ws` must refuse, and the close code each earns (RFC 6455: 1002 protocol error, 1007 bad data). */
const BAD_FRAMES: [string, Buffer, number][] = [
  ['invalid UTF-8 in a text frame', frame(0x1, Buffer.from([0xc3, 0x28, 0xff])), 1007],
  ['an unmasked client frame', frame(0x1, Buffer.from('{"type":"snapshot-taken"}'), { masked: false }), 1002],
  ['RSV1 set without an extension', frame(0x1, Buffer.from('{}'), { rsv1: true }), 1002],
  ['reserved data opcode 3', frame(0x3, Buffer.from('x')), 1002],
  ['reserved control opcode 0xB', frame(0xb, Buffer.from('x')), 1002],
  ['a continuation frame without a start', frame(0x0, Buffer.from('x')), 1002],
  ['a fragmented ping', frame(0x9, Buffer.from('x'), { fin: false }), 1002],
  ['a ping over 125 bytes', frame(0x9, Buffer.alloc(126, 1)), 1002],
  ['close code 999', frame(0x8, close(999)), 1002],
  ['a 1-byte close payload', frame(0x8, Buffer.from([3])), 1002],
];

describe('fuzz: WebSocket frames', () => {
  const auth = () => ({ path: `/ws?token=${product.token}` });

  it.each(BAD_FRAMES)('%s closes that socket with its code, and nothing else', async (_name, bytes, code) => {
    const before = (await expectHealthy(product)).server!.sockets;
    const client = await openRaw(product.port, product.host, auth().path);
    client.socket.write(bytes);
    await client.closed;
    expect(closeCodeIn(client.received())).toBe(code);
    const after = (await expectHealthy(product)).server!.sockets;
    expect(after.protocolErrors).toBe(before.protocolErrors + 1);
  });

  it('closes a socket that sends a 70,000-byte message with 1009, the limit being 64 KiB', async () => {
    const before = (await expectHealthy(product)).server!.sockets;
    const ws = new WebSocket(`ws://${product.host}/ws?token=${product.token}`);
    ws.on('error', () => undefined);
    await new Promise((resolve) => ws.once('open', resolve));
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    ws.send('x'.repeat(70_000));
    expect(await closed).toBe(1009);
    const after = (await expectHealthy(product)).server!.sockets;
    expect(after.oversizedMessages).toBe(before.oversizedMessages + 1);
  });

  it('survives every class many times over, interleaved, within a memory bound', async () => {
    const rssBefore = product.rssBytes();
    let sent = 0;
    for (let round = 0; round < 20; round++) {
      await Promise.all(
        BAD_FRAMES.map(async ([, bytes]) => {
          const client = await openRaw(product.port, product.host, auth().path);
          client.socket.write(bytes);
          sent++;
          await client.closed;
        }),
      );
    }
    // The server hears of the last closes a moment after the clients do: wait (a hang limit, not a timing claim).
    let snapshot = await expectHealthy(product);
    for (const deadline = Date.now() + 20_000; snapshot.server!.sockets.open > 0 && Date.now() < deadline;) {
      await new Promise((r) => setTimeout(r, 50));
      snapshot = await expectHealthy(product);
    }
    const growthMb = (product.rssBytes() - rssBefore) / 1024 ** 2;
    report('websocket-frames', {
      sent,
      crashes: 0,
      protocolErrors: snapshot.server!.sockets.protocolErrors,
      rssGrowthMb: Math.round(growthMb),
    });
    expect(snapshot.server!.sockets.open).toBe(0); // every one of them was closed
    expect(growthMb).toBeLessThan(50);
  });
});
