import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CommandExecutor, type CommandTarget } from '../../src-main/host/command-executor.js';
import { RepositoryPathError } from '../../src-main/repository/layout.js';
import { EmptyUploadError, publishUpload, UPLOADS_FOLDER, UploadTooLargeError } from '../../src-main/repository/upload.js';
import { nameFromFile } from '../../src-renderer/src/model-name.js';

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'sb-upload-'));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function chunks(...parts: string[]): AsyncIterable<Uint8Array> {
  return Readable.from(parts.map((part) => Buffer.from(part)));
}

const versionsOf = (model: string) => readdirSync(join(root, model)).sort();
const leftovers = () => (existsSync(join(root, UPLOADS_FOLDER)) ? readdirSync(join(root, UPLOADS_FOLDER)) : []);

describe('publishUpload', () => {
  it('publishes version 1 of a new model, then each next version, marked READY, with nothing left staged', async () => {
    expect(await publishUpload(root, 'mine', chunks('ab', 'cd'), 100)).toEqual({ version: 1, bytes: 4 });
    expect(await publishUpload(root, 'mine', chunks('efg'), 100)).toEqual({ version: 2, bytes: 3 });
    expect(versionsOf('mine')).toEqual(['1', '2']);
    expect(readFileSync(join(root, 'mine', '2', 'model.onnx'), 'utf8')).toBe('efg');
    expect(existsSync(join(root, 'mine', '2', 'READY'))).toBe(true);
    expect(leftovers()).toEqual([]);
  });

  it('gives concurrent uploads of one model distinct versions', async () => {
    const published = await Promise.all([1, 2, 3, 4].map((n) => publishUpload(root, 'mine', chunks(`file ${n}`), 100)));
    expect(published.map((p) => p.version).sort()).toEqual([1, 2, 3, 4]);
    expect(versionsOf('mine')).toEqual(['1', '2', '3', '4']);
  });

  it('stops reading past the size limit, and refuses an empty file or a bad name, leaving nothing behind', async () => {
    await expect(publishUpload(root, 'mine', chunks('12345', '67890', 'x'), 10)).rejects.toBeInstanceOf(UploadTooLargeError);
    await expect(publishUpload(root, 'mine', chunks(), 10)).rejects.toBeInstanceOf(EmptyUploadError);
    await expect(publishUpload(root, '../escape', chunks('x'), 10)).rejects.toBeInstanceOf(RepositoryPathError);
    await expect(publishUpload(root, '.hidden', chunks('x'), 10)).rejects.toBeInstanceOf(RepositoryPathError);
    expect(readdirSync(root).filter((name) => name !== UPLOADS_FOLDER)).toEqual([]);
    expect(leftovers()).toEqual([]);
  });
});

describe('the model.add command', () => {
  const target = (uploads?: CommandTarget['uploads']) => ({ engine: {}, experience: {}, uploads }) as unknown as CommandTarget; // model.add reads only `uploads`
  const uploads = {
    maxBytes: 100,
    publish: (model: string, body: AsyncIterable<Uint8Array>, max: number) => publishUpload(root, model, body, max),
  };

  it('publishes the file the desktop shell picks, and says so when the operator cancels', async () => {
    let pick: AsyncIterable<Uint8Array> | null = chunks('model bytes');
    const executor = new CommandExecutor(target(uploads), { pickModelFile: () => Promise.resolve(pick) });
    expect(await executor.execute({ id: 1, command: 'model.add', args: { model: 'mine' } })).toEqual({
      id: 1,
      ok: true,
      result: { model: 'mine', version: 1, bytes: 11 },
    });
    pick = null;
    expect(await executor.execute({ id: 2, command: 'model.add', args: { model: 'mine' } })).toMatchObject({
      ok: false,
      error: { code: 'CANCELLED' },
    });
    expect(versionsOf('mine')).toEqual(['1']);
  });

  it('tells a headless dashboard to upload, refuses a bad name by schema, and needs a repository', async () => {
    const headless = new CommandExecutor(target(uploads));
    expect(await headless.execute({ id: 1, command: 'model.add', args: { model: 'mine' } })).toMatchObject({
      ok: false,
      error: { code: 'UPLOAD_OVER_HTTP' },
    });
    expect(await headless.execute({ id: 2, command: 'model.add', args: { model: '../x' } })).toMatchObject({
      ok: false,
      error: { code: 'INVALID_COMMAND' },
    });
    const oneFile = new CommandExecutor(target(undefined), { pickModelFile: () => Promise.resolve(chunks('x')) });
    expect(await oneFile.execute({ id: 3, command: 'model.add', args: { model: 'mine' } })).toMatchObject({
      ok: false,
      error: { code: 'NO_REPOSITORY' },
    });
  });
});

describe('nameFromFile', () => {
  it('makes a model name of a file name under the name rule, or none', () => {
    expect(nameFromFile('policy.onnx')).toBe('policy');
    expect(nameFromFile('My Policy (v2).ONNX')).toBe('My-Policy-v2-');
    expect(nameFromFile('..hidden.onnx')).toBe('hidden');
    expect(nameFromFile('日本.onnx')).toBe('');
    expect(nameFromFile(`${'x'.repeat(80)}.onnx`)).toHaveLength(64);
  });
});
