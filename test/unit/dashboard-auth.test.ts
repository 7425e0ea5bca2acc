import type { IncomingMessage } from 'node:http';
import type * as os from 'node:os';
import { describe, expect, it, vi } from 'vitest';
import { OriginPolicy, urlHost } from '../../src-main/server/origin-policy.js';
import { TokenAuth } from '../../src-main/server/token-auth.js';

// The machine's interfaces, fixed: what a wildcard bind answers must not depend on where the test runs.
vi.mock('node:os', async (importOriginal) => ({
  ...(await importOriginal<typeof os>()),
  networkInterfaces: () => ({
    lo: [{ address: '127.0.0.1' }, { address: '::1' }],
    eth0: [{ address: '192.0.2.7' }, { address: 'fe80::1' }],
  }),
}));

const TOKEN = 'a'.repeat(16) + 'b'.repeat(16);
const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;
const url = (query = '') => new URL(`http://127.0.0.1:7480/api/snapshot${query}`);

describe('TokenAuth', () => {
  const auth = new TokenAuth(TOKEN);

  it('takes the exact token only, in constant time, and nothing empty', () => {
    expect(auth.matches(TOKEN)).toBe(true);
    expect(auth.matches(`${TOKEN}x`)).toBe(false);
    expect(auth.matches(TOKEN.slice(1))).toBe(false);
    expect(auth.matches(TOKEN.replace(/.$/, 'c'))).toBe(false);
    expect(auth.matches('')).toBe(false);
    expect(auth.matches(null)).toBe(false);
    expect(auth.matches(undefined)).toBe(false);
    expect(new TokenAuth().token).toMatch(/^[0-9a-f]{48}$/); // a fresh random one when none is given
  });

  it('takes a Bearer header for the APIs, and nothing else there', () => {
    expect(auth.bearer(req({ authorization: `Bearer ${TOKEN}` }))).toBe(true);
    expect(auth.bearer(req({ authorization: `Bearer  ${TOKEN} ` }))).toBe(true);
    expect(auth.bearer(req({ authorization: `Basic ${TOKEN}` }))).toBe(false);
    expect(auth.bearer(req({ authorization: TOKEN }))).toBe(false);
    expect(auth.bearer(req({ authorization: `Bearer:${TOKEN}` }))).toBe(false); // seven characters, but not the scheme
    expect(auth.bearer(req({ cookie: `switchboard-token=${TOKEN}` }))).toBe(false);
    expect(auth.bearer(req({}))).toBe(false);
  });

  it('takes the Bearer header, the page’s cookie of this port, or ?token= only where asked', () => {
    const a = new TokenAuth(TOKEN);
    a.listening(7480);
    expect(a.authorized(req({ authorization: `Bearer ${TOKEN}` }), url())).toBe(true);
    // A wrong Bearer header is not rescued by a right cookie: what a script sent is what counts.
    expect(a.authorized(req({ authorization: 'Bearer wrong', cookie: `switchboard-token-7480=${TOKEN}` }), url())).toBe(false);
    expect(a.authorized(req({ cookie: `other=1; switchboard-token-7480=${TOKEN}` }), url())).toBe(true);
    expect(a.authorized(req({ cookie: `switchboard-token-7480= ${TOKEN} ;other=1` }), url())).toBe(true);
    expect(a.authorized(req({ authorization: `Bearer:${TOKEN}` }), url())).toBe(false);
    expect(a.authorized(req({ cookie: `switchboard-token-7481=${TOKEN}` }), url())).toBe(false); // another server's cookie
    expect(a.authorized(req({ cookie: `switchboard-token=${TOKEN}` }), url())).toBe(false);
    expect(a.authorized(req({ cookie: `=${TOKEN}; x-switchboard-token-7480=${TOKEN}` }), url())).toBe(false);
    expect(a.authorized(req({}), url(`?token=${TOKEN}`))).toBe(false);
    expect(a.authorized(req({}), url(`?token=${TOKEN}`), true)).toBe(true);
    expect(a.authorized(req({}), url('?token=wrong'), true)).toBe(false);
  });

  it('names its cookie without a port until it knows one', () => {
    const a = new TokenAuth(TOKEN);
    expect(a.authorized(req({ cookie: `switchboard-token=${TOKEN}` }), url())).toBe(true);
    expect(a.setCookie(true)).toMatch(/^switchboard-token=/);
  });

  it('sets the cookie for this port when the token was right, and expires it when not', () => {
    const a = new TokenAuth(TOKEN);
    a.listening(9000);
    expect(a.setCookie(true)).toBe(`switchboard-token-9000=${TOKEN}; Path=/; HttpOnly; SameSite=Strict`);
    expect(a.setCookie(false)).toBe('switchboard-token-9000=; Max-Age=0; Path=/; HttpOnly; SameSite=Strict');
  });
});

describe('OriginPolicy', () => {
  it('answers the bound address and loopback names with the port, in any case, and nothing else', () => {
    const policy = new OriginPolicy('127.0.0.1');
    expect(policy.hostAllowed('127.0.0.1:7480')).toBe(false); // before the port is known
    policy.listening(7480);
    for (const host of ['127.0.0.1:7480', 'localhost:7480', 'LOCALHOST:7480', '[::1]:7480']) expect(policy.hostAllowed(host)).toBe(true);
    for (const host of ['127.0.0.1:7481', 'evil.example:7480', '127.0.0.1', 'localhost', undefined])
      expect(policy.hostAllowed(host)).toBe(false);
  });

  it('takes no Origin, or the dashboard’s own under the Host used; refuses another site and a rebinding name', () => {
    const policy = new OriginPolicy('127.0.0.1');
    policy.listening(7480);
    expect(policy.originAllowed(undefined, '127.0.0.1:7480')).toBe(true);
    expect(policy.originAllowed('http://127.0.0.1:7480', '127.0.0.1:7480')).toBe(true);
    expect(policy.originAllowed('http://LocalHost:7480', 'localhost:7480')).toBe(true);
    expect(policy.originAllowed('http://localhost:7480', '127.0.0.1:7480')).toBe(false); // another name than the Host used
    expect(policy.originAllowed('https://127.0.0.1:7480', '127.0.0.1:7480')).toBe(false);
    expect(policy.originAllowed('http://evil.example', '127.0.0.1:7480')).toBe(false);
    expect(policy.originAllowed('http://evil.example:7480', 'evil.example:7480')).toBe(false);
    expect(policy.originAllowed('http://127.0.0.1:7480', undefined)).toBe(false);
  });

  it('names an IPv6 address in brackets, and a wildcard bind answers each of the machine’s addresses', () => {
    expect(urlHost('::1')).toBe('[::1]');
    expect(urlHost('[::1]')).toBe('[::1]');
    expect(urlHost('127.0.0.1')).toBe('127.0.0.1');
    const listeningOn = (address: string, port: number) => {
      const policy = new OriginPolicy(address);
      policy.listening(port);
      return policy;
    };
    expect(listeningOn('::1', 80).hostAllowed('[::1]:80')).toBe(true);
    const any = listeningOn('0.0.0.0', 81);
    for (const host of ['127.0.0.1:81', '0.0.0.0:81', '192.0.2.7:81', '[fe80::1]:81']) expect(any.hostAllowed(host)).toBe(true);
    expect(listeningOn('::', 83).hostAllowed('192.0.2.7:83')).toBe(true);
    expect(listeningOn('', 84).hostAllowed('192.0.2.7:84')).toBe(true); // listen() without a host: every interface too
    const bound = listeningOn('10.1.2.3', 82);
    expect(bound.hostAllowed('10.1.2.3:82')).toBe(true);
    expect(bound.hostAllowed('10.1.2.4:82')).toBe(false);
    expect(bound.hostAllowed('192.0.2.7:82')).toBe(false); // another of the machine's addresses: not what it is bound to
    for (const name of ['localhost', '127.0.0.1', '[::1]']) expect(bound.hostAllowed(`${name}:82`)).toBe(true);
  });
});
