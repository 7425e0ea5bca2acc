import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newToken, resolveToken, TOKEN_ENV, TokenSourceError } from '../../src-main/server/token-source.js';

describe('token source', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sb-token-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('makes tokens a command line cannot take for an option', () => {
    const tokens = Array.from({ length: 200 }, newToken);
    for (const token of tokens) expect(token).toMatch(/^[0-9a-f]{48}$/);
    expect(new Set(tokens).size).toBe(tokens.length);
  });

  it('creates a token file readable by its owner only, then keeps it across restarts', async () => {
    const file = join(dir, 'nested', 'api-token');
    const first = await resolveToken({ tokenFile: file, env: {} });
    expect(first.source).toBe('new-file');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await readFile(file, 'utf8')).trim()).toBe(first.token);
    const second = await resolveToken({ tokenFile: file, env: {} });
    expect(second).toEqual({ token: first.token, source: 'file' });
  });

  it('takes the environment variable when there is no file, and a random token otherwise', async () => {
    const given = 'a-token-from-the-environment';
    expect(await resolveToken({ env: { [TOKEN_ENV]: given } })).toEqual({ token: given, source: 'environment' });
    expect((await resolveToken({ env: {} })).source).toBe('random');
  });

  it('refuses a token too short or with spaces, from the file or the environment, with a typed error', async () => {
    const file = join(dir, 'bad');
    await writeFile(file, 'short\n');
    await expect(resolveToken({ tokenFile: file, env: {} })).rejects.toBeInstanceOf(TokenSourceError);
    await expect(resolveToken({ env: { [TOKEN_ENV]: 'has a space in the middle' } })).rejects.toThrow(/16 to 256 characters/);
  });
});
