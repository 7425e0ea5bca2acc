import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));

function cli(args: string[]) {
  return run(process.execPath, ['--import', 'tsx', 'src-main/cli.ts', ...args], { cwd: root, timeout: 60_000 });
}

describe('headless CLI', () => {
  it('serves the built-in demo policy under synthetic load, prints a status line every second, and stops cleanly', async () => {
    const { stdout } = await cli(['--duration', '3', '--load', '8', '--load-rate', '400']);
    expect(stdout).toMatch(/model "policy" \(built-in demo policy MLP 64-256-256-8\)/);
    const statusLines = stdout.split('\n').filter((line) => /\| policy v1 \| [\d,]+ req\/s/.test(line));
    expect(statusLines.length).toBeGreaterThanOrEqual(2);
    expect(stdout).toMatch(/workers 2\/2 ready/);
    expect(stdout.trim().endsWith('Stopped.')).toBe(true);
  });

  it('exits non-zero with the typed error code when the model cannot be read', async () => {
    const error = (await cli(['--model', '/nonexistent.onnx', '--duration', '1']).catch((e: unknown) => e)) as {
      code: number;
      stderr: string;
    };
    expect(error.code).toBe(1);
    expect(error.stderr).toMatch(/MODEL_LOAD_FAILED: cannot read model file \/nonexistent\.onnx/);
  });

  it('refuses a malformed option with usage help', async () => {
    const error = (await cli(['--workers', 'many']).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(error.code).toBe(1);
    expect(error.stderr).toMatch(/--workers <n>.*expected a non-negative integer/s);
  });
});
