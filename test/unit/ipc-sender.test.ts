import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isTrustedSender, isTrustedSenderUrl } from '../../src-main/electron/sender-policy.js';
import { CommandRequestSchema, parseCommand } from '../../src-preload/contract.js';

const trusted = { devOrigin: 'http://localhost:5173' };

describe('IPC sender validation', () => {
  it('accepts only the app page, from the app:// scheme or the dev server', () => {
    expect(isTrustedSenderUrl('app://switchboard/index.html', trusted)).toBe(true);
    expect(isTrustedSenderUrl('app://switchboard/', trusted)).toBe(true);
    expect(isTrustedSenderUrl('app://switchboard/index.html?x#y', trusted)).toBe(true);
    expect(isTrustedSenderUrl('http://localhost:5173/', trusted)).toBe(true);
  });

  it("refuses foreign senders, and any local file, the bundle's own included", () => {
    expect(isTrustedSenderUrl('file:///opt/Switchboard/resources/app.asar/out/renderer/index.html', trusted)).toBe(false);
    expect(isTrustedSenderUrl('file:///tmp/evil/index.html', trusted)).toBe(false);
    expect(isTrustedSenderUrl('app://switchboard/other.html', trusted)).toBe(false);
    expect(isTrustedSenderUrl('app://elsewhere/index.html', trusted)).toBe(false);
    expect(isTrustedSenderUrl('https://example.com/', trusted)).toBe(false);
    expect(isTrustedSenderUrl('http://localhost:5174/', trusted)).toBe(false);
    expect(isTrustedSenderUrl('http://localhost:5173/', {})).toBe(false);
    expect(isTrustedSenderUrl(undefined, trusted)).toBe(false);
    expect(isTrustedSenderUrl('not a url', trusted)).toBe(false);
    // The app's host under a web scheme is some server's page, not ours.
    expect(isTrustedSenderUrl('https://switchboard/index.html', trusted)).toBe(false);
    expect(isTrustedSenderUrl('http://switchboard/', trusted)).toBe(false);
    // A dev server URL given as a file:// URL has the origin "null", the origin of every local file: still no file is trusted.
    expect(isTrustedSenderUrl('file:///tmp/evil/index.html', { devOrigin: new URL('file:///srv/dev/').origin })).toBe(false);
  });

  it("takes an event only from this window's own top frame showing the app's page", () => {
    const contents = {};
    const top = { parent: null, url: 'app://switchboard/index.html' };
    expect(isTrustedSender({ sender: contents, senderFrame: top }, contents, trusted)).toBe(true);
    expect(isTrustedSender({ sender: {}, senderFrame: top }, contents, trusted)).toBe(false); // another window
    expect(isTrustedSender({ sender: contents, senderFrame: { ...top, parent: top } }, contents, trusted)).toBe(false); // a subframe
    expect(isTrustedSender({ sender: contents, senderFrame: null }, contents, trusted)).toBe(false); // frame gone
    expect(isTrustedSender({ sender: contents, senderFrame: { parent: null, url: 'https://evil.example/' } }, contents, trusted)).toBe(
      false,
    );
  });
});

describe('sandboxed preload', () => {
  it('loads nothing at run time but electron and the channel names (a sandboxed preload cannot require packages)', () => {
    const runtimeImports = (file: string) =>
      [
        ...readFileSync(new URL(`../../src-preload/${file}`, import.meta.url), 'utf8').matchAll(
          /^import (?!type )[^;]*? from '([^']+)';/gm,
        ),
      ].map((m) => m[1]);
    expect(runtimeImports('index.ts')).toEqual(['electron', './channels.js']);
    expect(runtimeImports('channels.ts')).toEqual([]);
  });
});

describe('command schema validation', () => {
  it('accepts a well-formed command', () => {
    expect(CommandRequestSchema.safeParse({ id: 1, command: 'queue.pause', args: { model: 'policy' } }).success).toBe(true);
    expect(parseCommand('workers.resize', { model: 'policy', count: 3 })).toEqual({ ok: true, args: { model: 'policy', count: 3 } });
  });

  it('rejects malformed payloads with a typed error', () => {
    expect(CommandRequestSchema.safeParse({ id: 1, command: 'shell.exec', args: {} }).success).toBe(false);
    expect(CommandRequestSchema.safeParse({ command: 'queue.pause', args: {} }).success).toBe(false);
    expect(CommandRequestSchema.safeParse({ id: 1, command: 'queue.pause', args: {}, extra: true }).success).toBe(false);
    const bad = [
      parseCommand('queue.pause', { model: '../etc' }),
      parseCommand('queue.configure', { model: 'policy', capacity: 0 }),
      parseCommand('queue.configure', { model: 'policy', fullPolicy: 'drop' }),
      parseCommand('workers.resize', { model: 'policy', count: 1000 }),
      parseCommand('model.activate', { model: 'policy', version: -1 }),
      parseCommand('updater.restart', { now: true }),
    ];
    for (const result of bad) expect(result).toMatchObject({ ok: false, error: { code: 'INVALID_COMMAND' } });
  });
});
