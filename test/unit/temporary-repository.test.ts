import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { createTemporaryRepository, OWNER_FILE, sweepStaleRepositories } from '../../src-main/host/temporary-repository.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const made: string[] = [];
afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '0']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

describe('temporary repository', () => {
  it('sweeps the folders whose owner is gone, and only those', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-sweep-test-'));
    made.push(dir);
    const folder = (name: string, owner?: number) => {
      mkdirSync(join(dir, name));
      if (owner !== undefined) writeFileSync(join(dir, name, OWNER_FILE), String(owner));
      return join(dir, name);
    };
    const stale = folder('switchboard-repository-stale', await deadPid());
    const live = folder('switchboard-repository-live', process.ppid);
    const unowned = folder('switchboard-repository-unowned');
    const other = folder('not-ours', await deadPid());
    expect(sweepStaleRepositories(dir)).toEqual([stale]);
    expect([stale, live, unowned, other].map((p) => existsSync(p))).toEqual([false, true, true, true]);
  });

  it('is removed when its owner crashes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-crash-test-'));
    made.push(dir);
    const script = `
      import { createTemporaryRepository } from './src-main/host/temporary-repository.ts';
      const repo = createTemporaryRepository(${JSON.stringify(dir)});
      console.log(repo.path);
      throw new Error('crash on purpose');`;
    const run = promisify(execFile)(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: root });
    const failure = await run.then(
      () => undefined,
      (error: { stdout: string; code: number }) => error,
    );
    expect(failure?.code).toBe(1);
    const path = failure!.stdout.trim();
    expect(path.startsWith(join(dir, 'switchboard-repository-'))).toBe(true);
    expect(existsSync(path)).toBe(false);
  });

  it('is removed by remove(), and names its owner meanwhile', () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-remove-test-'));
    made.push(dir);
    const repo = createTemporaryRepository(dir);
    expect(existsSync(join(repo.path, OWNER_FILE))).toBe(true);
    repo.remove();
    expect(existsSync(repo.path)).toBe(false);
  });
});
