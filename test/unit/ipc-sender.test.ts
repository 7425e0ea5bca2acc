import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isTrustedSenderUrl } from '../../src-main/electron/sender-policy.js';
import { CommandRequestSchema, parseCommand } from '../../src-preload/contract.js';

const trusted = { fileUrl: 'file:///opt/Switchboard/resources/app.asar/out/renderer/index.html', devOrigin: 'http://localhost:5173' };

describe('IPC sender validation', () => {
  it('accepts only the app page, from its bundle or the dev server', () => {
    expect(isTrustedSenderUrl('file:///opt/Switchboard/resources/app.asar/out/renderer/index.html', trusted)).toBe(true);
    expect(isTrustedSenderUrl('file:///opt/Switchboard/resources/app.asar/out/renderer/index.html?x#y', trusted)).toBe(true);
    expect(isTrustedSenderUrl('http://localhost:5173/', trusted)).toBe(true);
  });

  it('refuses foreign senders', () => {
    expect(isTrustedSenderUrl('file:///tmp/evil.html', trusted)).toBe(false);
    expect(isTrustedSenderUrl('https://example.com/', trusted)).toBe(false);
    expect(isTrustedSenderUrl('http://localhost:5174/', trusted)).toBe(false);
    expect(isTrustedSenderUrl('http://localhost:5173/', { fileUrl: trusted.fileUrl })).toBe(false);
    expect(isTrustedSenderUrl(undefined, trusted)).toBe(false);
    expect(isTrustedSenderUrl('not a url', trusted)).toBe(false);
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
