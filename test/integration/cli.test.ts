import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { smallMlp } from '../fixtures/models.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));

function cli(args: string[]) {
  return run(process.execPath, ['--import', 'tsx', 'src-main/cli.ts', ...args], { cwd: root, timeout: 60_000 });
}

describe('headless CLI', () => {
  it('serves the built-in demo policy through the repository and updater, prints a status line every second, and stops cleanly on SIGINT', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src-main/cli.ts', '--port', '0', '--load', '8', '--load-rate', '400'], {
      cwd: root,
    });
    let stdout = '';
    const statusLines = () => stdout.split('\n').filter((line) => /\| policy v1 \| [\d,]+ req\/s/.test(line));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (statusLines().length >= 2) resolve();
      });
      void exited.then(() => reject(new Error(`exited early:\n${stdout}`)));
    });
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(stdout).toMatch(/model repository .* \(temporary, seeded with the demo policy MLP 64-256-256-8\)/);
    expect(stdout).toMatch(/workers 2\/2 ready/);
    expect(stdout).toMatch(/\| updater ready/);
    expect(stdout).toMatch(/Stopping \(SIGINT\): draining/);
    expect(stdout.trim().endsWith('Stopped.')).toBe(true);
    // The temporary repository is removed on exit.
    const repository = /model repository (\S+)/.exec(stdout)![1]!;
    expect(existsSync(repository)).toBe(false);
  });

  it('exits non-zero with the typed error code when the model cannot be read', async () => {
    const error = (await cli(['--model', '/nonexistent.onnx', '--duration', '1']).catch((e: unknown) => e)) as {
      code: number;
      stderr: string;
    };
    expect(error.code).toBe(1);
    expect(error.stderr).toMatch(/MODEL_LOAD_FAILED: cannot read model file \/nonexistent\.onnx/);
  });

  it('serves one file with --model, without a repository', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-cli-'));
    writeFileSync(join(dir, 'm.onnx'), smallMlp());
    const { stdout } = await cli([
      '--model',
      join(dir, 'm.onnx'),
      '--name',
      'tiny',
      '--duration',
      '2',
      '--load',
      '2',
      '--load-rate',
      '100',
    ]);
    rmSync(dir, { recursive: true });
    expect(stdout).toMatch(/model "tiny" from .*m\.onnx/);
    expect(stdout).toMatch(/\| tiny v1 \|/);
    expect(stdout).not.toMatch(/updater/);
  });

  it('refuses a malformed option with usage help', async () => {
    const error = (await cli(['--workers', 'many']).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(error.code).toBe(1);
    expect(error.stderr).toMatch(/--workers <n>.*expected a non-negative integer/s);
  });
});
