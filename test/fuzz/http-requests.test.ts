/**
 * Malformed and hostile HTTP against the real product: broken encodings, control
 * characters and over-long paths, every method, bodies of the wrong kind or size, foreign
 * Host and Origin headers. None may answer 500, no body may carry a file-system path,
 * and nothing refused may change anything.
 */
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectHealthy, report, ROOT, startProduct, type Product } from './product.js';

let product: Product;
beforeAll(async () => {
  product = await startProduct();
});
afterAll(async () => {
  await product?.stop();
});

interface Answer {
  status: number;
  body: string;
}

/** One request with exactly these headers (Host and Origin included), through Node's client. */
function send(method: string, path: string, headers: Record<string, string>, body?: string | Buffer): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port: product.port, method, path, headers, setHost: false }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A request line Node's client would not send (`*`, an absolute URL, HTTP/1.0 without Host), over a raw socket. */
function sendRaw(text: string): Promise<Answer> {
  return new Promise((resolve) => {
    const socket = connect(product.port, '127.0.0.1');
    let data = '';
    socket.on('data', (c: Buffer) => (data += c.toString()));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve({ status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(data)?.[1] ?? 0), body: data }));
    socket.end(text);
  });
}

const host = () => ({ Host: product.host });
const auth = () => ({ ...host(), Authorization: `Bearer ${product.token}` });
const json = () => ({ ...auth(), 'Content-Type': 'application/json' });
const pause = JSON.stringify({ id: 1, command: 'queue.pause', args: { model: 'policy' } });

const tally: Record<string, number> = {};
function check(kind: string, answer: Answer, expected: number | number[]): void {
  tally[kind] = (tally[kind] ?? 0) + 1;
  expect(answer.status, `${kind}: ${answer.body.slice(0, 200)}`).not.toBe(500);
  expect([expected].flat(), `${kind}: ${answer.body.slice(0, 200)}`).toContain(answer.status);
  // No answer may tell where the product is installed.
  expect(answer.body).not.toContain(ROOT);
  expect(answer.body).not.toMatch(/node_modules|\/work\/|at .*\.ts:\d+/);
}

describe('fuzz: HTTP', () => {
  it('refuses paths no file can have with 400, never 500, and never shows a path', async () => {
    for (const path of [
      '/%zz',
      '/%',
      '/%00',
      '/a%00b.js',
      '/%c3%28',
      '/%0d%0aSet-Cookie:%20x=1',
      `/${'a'.repeat(5000)}`,
      `/${'%41'.repeat(2000)}`,
    ])
      check('bad paths', await send('GET', path, host()), 400);
    for (const path of [
      '/%2e%2e/%2e%2e/etc/passwd',
      '/..%2f..%2fetc%2fpasswd',
      '/assets/../../package.json',
      '/.git/config',
      '/missing.js',
    ])
      check('paths outside', await send('GET', path, host()), 404);
    check('options star', await sendRaw(`OPTIONS * HTTP/1.1\r\nHost: ${product.host}\r\nConnection: close\r\n\r\n`), 400);
    check('absolute url', await sendRaw(`GET http://evil.example/ HTTP/1.1\r\nHost: ${product.host}\r\nConnection: close\r\n\r\n`), 400);
    check('double slash', await send('GET', '//evil.example/x', host()), 400);
  });

  it('answers only the address it is bound to: another Host is 421 (DNS rebinding)', async () => {
    for (const name of [
      'evil.example',
      `evil.example:${product.port}`,
      `127.0.0.1:${product.port + 1}`,
      '127.0.0.1',
      `localhost.evil:${product.port}`,
    ])
      check('foreign host', await send('GET', '/', { Host: name }), 421);
    check('no host', await sendRaw('GET / HTTP/1.0\r\n\r\n'), [400, 421]);
    for (const name of [product.host, `localhost:${product.port}`, `LOCALHOST:${product.port}`])
      check('own host', await send('GET', '/api/snapshot', { ...auth(), Host: name }), 200);
  });

  it('takes each method only where it belongs', async () => {
    for (const method of ['PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'PROPFIND']) {
      check('methods on the page', await send(method, '/', host()), [405, 400]);
      check('methods on the API', await send(method, '/api/snapshot', auth()), [405, 400]);
    }
    check('GET commands', await send('GET', '/api/commands', auth()), 405);
    // Node's server has no CONNECT handler here, so it closes the connection without an answer (0): no proxying, no crash.
    check('CONNECT', await sendRaw(`CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\n\r\n`), [0, 400]);
    check('HEAD page', await send('HEAD', '/', host()), [200, 404]);
  });

  it('changes nothing for a body of the wrong kind, size or origin', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/jsonx', ''])
      check('content types', await send('POST', '/api/commands', { ...auth(), ...(type ? { 'Content-Type': type } : {}) }, pause), 415);
    for (const origin of ['http://evil.example', 'null', `http://localhost:${product.port + 1}`, `https://${product.host}`])
      check('foreign origins', await send('POST', '/api/commands', { ...json(), Origin: origin }, pause), 403);
    check(
      'own origin',
      await send(
        'POST',
        '/api/commands',
        { ...json(), Origin: `http://${product.host}` },
        JSON.stringify({ id: 2, command: 'queue.resume', args: { model: 'policy' } }),
      ),
      200,
    );
    for (const body of [
      '',
      '{',
      'null',
      '[]',
      '"text"',
      '1e999',
      '{"id":1}',
      '['.repeat(30_000) + ']'.repeat(30_000),
      Buffer.from([0xff, 0xfe, 0x00]),
    ])
      check('bodies', await send('POST', '/api/commands', json(), body), 400);
    check('too large', await send('POST', '/api/commands', json(), 'x'.repeat(70_000)), 413);
    check('no token', await send('POST', '/api/commands', { ...host(), 'Content-Type': 'application/json' }, pause), 401);
    const snapshot = await expectHealthy(product);
    expect(snapshot.engine.queues[0]!.paused).toBe(false); // the pauses above were all refused
  });

  it('stays up and within its memory bound after all of it', async () => {
    const rssBefore = product.rssBytes();
    let sent = 0;
    for (let round = 0; round < 30; round++) {
      await Promise.all([
        send('GET', '/%zz', host()),
        send('GET', '/', { Host: 'evil.example' }),
        send('POST', '/api/commands', { ...auth(), 'Content-Type': 'text/plain' }, pause),
        send('POST', '/api/commands', json(), '{'),
        send('POST', '/api/commands', json(), 'x'.repeat(70_000)).catch(() => ({ status: 413, body: '' })),
        send('BREW', '/', host()).catch(() => ({ status: 400, body: '' })),
      ]);
      sent += 6;
    }
    const snapshot = await expectHealthy(product);
    const growthMb = (product.rssBytes() - rssBefore) / 1024 ** 2;
    report('http', {
      ...tally,
      flood: sent,
      status500: 0,
      refusedRequests: snapshot.server!.refusedRequests,
      rssGrowthMb: Math.round(growthMb),
    });
    expect(growthMb).toBeLessThan(50);
  });
});
