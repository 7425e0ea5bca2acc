import { execFile, spawn } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { smallMlp } from '../fixtures/models.js';
import { until } from './helpers.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));

function cli(args: string[]) {
  return run(
    process.execPath,
    ['--import', 'tsx', 'src-main/cli.ts', '--http-port', '0', '--grpc-port', '0', '--metrics-port', '0', ...args],
    {
      cwd: root,
      timeout: 60_000,
    },
  );
}

/** Status lines of the CartPole loop that show the actors playing. */
function statusLines(stdout: string): string[] {
  return stdout.split('\n').filter((line) => /\| cartpole v\d+ \| .*\| actors [\d,]+ steps/.test(line) && stepsIn(line) > 0);
}

function stepsIn(line: string): number {
  return Number(/actors ([\d,]+) steps/.exec(line)![1]!.replaceAll(',', ''));
}

/**
 * Run the CLI until `done(stdout)` holds, then (after `whileRunning`, if given) stop it with
 * SIGINT and wait for it to exit.
 */
async function runUntil(
  args: string[],
  done: (stdout: string) => boolean,
  whileRunning?: (stdout: string) => Promise<void>,
): Promise<{ stdout: string; exitCode: number | null }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src-main/cli.ts', '--http-port', '0', '--grpc-port', '0', '--metrics-port', '0', ...args],
    {
      cwd: root,
    },
  );
  let stdout = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  child.stderr.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (done(stdout)) resolve();
    });
    void exited.then(() => reject(new Error(`exited early:\n${stdout}`)));
  });
  try {
    await whileRunning?.(stdout);
  } finally {
    child.kill('SIGINT');
  }
  const exitCode = await exited;
  return { stdout, exitCode };
}

describe('headless CLI', () => {
  it('runs the CartPole actor-learner loop by default, prints a status line every second, and stops cleanly on SIGINT', async () => {
    const { stdout, exitCode } = await runUntil(['--port', '0'], (out) => statusLines(out).length >= 2);
    expect(exitCode).toBe(0);
    expect(stdout).toMatch(/model repository .* \(temporary; the CartPole learner publishes into it\)/);
    expect(stdout).toMatch(/Experience checkpoints: off \(temporary repository/);
    expect(stdout).toMatch(/workers 2\/2 ready/);
    expect(stdout).toMatch(/\| updater ready/);
    expect(stdout).toMatch(/Stopping \(SIGINT\): draining/);
    expect(stdout.trim().endsWith('Stopped.')).toBe(true);
    // The temporary repository is removed on exit.
    const repository = /model repository (\S+)/.exec(stdout)![1]!;
    expect(existsSync(repository)).toBe(false);
  });

  it('with a repository, keeps the experience buffer and the learner progress across restarts', async () => {
    const repository = mkdtempSync(join(tmpdir(), 'switchboard-cli-repo-'));
    try {
      // Run until the actors have written a few thousand transitions and a learned version exists.
      const first = await runUntil(['--port', '0', '--repository', repository, '--demo', 'cartpole'], (out) => {
        const line = statusLines(out).at(-1);
        return line !== undefined && stepsIn(line) >= 2000 && /learner gen [1-9]/.test(line);
      });
      expect(first.exitCode).toBe(0);
      expect(existsSync(join(repository, '.experience', 'latest.ckpt'))).toBe(true);
      const second = await runUntil(
        ['--port', '0', '--repository', repository, '--demo', 'cartpole'],
        (out) => statusLines(out).length >= 1,
      );
      expect(second.exitCode).toBe(0);
      const restored = Number(/Experience checkpoints: .*\(restored (\d+) items\)/.exec(second.stdout)?.[1]);
      expect(restored).toBeGreaterThanOrEqual(2000);
      expect(second.stdout).toMatch(/the learner continues from version \d+/);
    } finally {
      rmSync(repository, { recursive: true, force: true });
    }
    // Two whole runs of the CLI, each building and training on the fly: ~11 s on an idle
    // 2-core machine, and more than the default 30 s was seen when the machine was loaded.
  }, 120_000);

  /** The model's status lines (one a second), from its name on. */
  function modelLines(stdout: string, model: string): string[] {
    return stdout.split('\n').filter((line) => line.includes(`| ${model} v1 |`));
  }

  it('serves a repository the user gives as it is: no demo publishes into it and no synthetic requests reach it', async () => {
    const repository = mkdtempSync(join(tmpdir(), 'switchboard-cli-own-'));
    mkdirSync(join(repository, 'mine', '1'), { recursive: true });
    writeFileSync(join(repository, 'mine', '1', 'model.onnx'), smallMlp());
    try {
      const { stdout, exitCode } = await runUntil(
        ['--port', '0', '--repository', repository],
        (out) => modelLines(out, 'mine').length >= 3,
      );
      expect(exitCode).toBe(0);
      expect(stdout).toContain('(served as it is: nothing is published into it)');
      expect(stdout).not.toMatch(/Synthetic load|Demo: CartPole/);
      expect(modelLines(stdout, 'mine').every((line) => line.includes('| 0 req/s'))).toBe(true);
      expect(readdirSync(repository)).toEqual(['mine']);
      expect(readdirSync(join(repository, 'mine'))).toEqual(['1']);
    } finally {
      rmSync(repository, { recursive: true, force: true });
    }
  });

  it('sends no synthetic requests to a model given with --model unless --load asks for them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-cli-'));
    writeFileSync(join(dir, 'm.onnx'), smallMlp());
    try {
      const args = ['--model', join(dir, 'm.onnx'), '--name', 'tiny', '--port', '0'];
      const { stdout } = await runUntil(args, (out) => modelLines(out, 'tiny').length >= 3);
      expect(stdout).not.toContain('Synthetic load');
      expect(modelLines(stdout, 'tiny').every((line) => line.includes('| 0 req/s'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exits non-zero with the typed error code when the model cannot be read', async () => {
    const error = (await cli(['--model', '/nonexistent.onnx', '--duration', '1']).catch((e: unknown) => e)) as {
      code: number;
      stderr: string;
    };
    expect(error.code).toBe(1);
    expect(error.stderr).toMatch(/MODEL_LOAD_FAILED: cannot read model file \/nonexistent\.onnx/);
  });

  it('serves one file with --model, without a repository, with its dashboard', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-cli-'));
    writeFileSync(join(dir, 'm.onnx'), smallMlp());
    try {
      const args = ['--model', join(dir, 'm.onnx'), '--name', 'tiny', '--port', '0', '--load', '2', '--load-rate', '100'];
      const { stdout, exitCode } = await runUntil(
        args,
        (out) => /\| tiny v1 \|/.test(out),
        async (out) => {
          const url = new URL(/Dashboard: (\S+)/.exec(out)![1]!);
          const auth = { Authorization: `Bearer ${url.searchParams.get('token')}`, 'Content-Type': 'application/json' };
          const snapshot = (await (await fetch(new URL('/api/snapshot', url), { headers: auth })).json()) as {
            engine: { models: { name: string }[] };
            repository: unknown;
            processes: { type: string }[];
          };
          expect(snapshot.engine.models.map((m) => m.name)).toEqual(['tiny']);
          expect(snapshot.repository).toBeNull();
          expect(snapshot.processes.map((p) => p.type)).toEqual(['host']);
          const command = async (body: object) =>
            (await (
              await fetch(new URL('/api/commands', url), { method: 'POST', headers: auth, body: JSON.stringify(body) })
            ).json()) as object;
          expect(await command({ id: 1, command: 'queue.pause', args: { model: 'tiny' } })).toMatchObject({ ok: true });
          expect(await command({ id: 2, command: 'model.activate', args: { model: 'tiny', version: 1 } })).toMatchObject({
            ok: false,
            error: { code: 'NO_REPOSITORY' },
          });
          expect(await command({ id: 3, command: 'experience.checkpoint', args: {} })).toMatchObject({
            ok: false,
            error: { code: 'NO_EXPERIENCE_BUFFER' },
          });
        },
      );
      expect(exitCode).toBe(0);
      expect(stdout).toMatch(/model "tiny" from .*m\.onnx/);
      expect(stdout).not.toMatch(/updater/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('exits non-zero with a clear message, leaving nothing running, when the dashboard port is taken', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    try {
      // The engine, updater, actors and learner start before the port is taken; were they left
      // running, the process would never exit and this call would time out.
      const error = (await cli(['--port', String(port)]).catch((e: unknown) => e)) as { code: number; stdout: string; stderr: string };
      expect(error.code).toBe(1);
      expect(error.stderr).toContain(`switchboard: dashboard: 127.0.0.1:${port} is already in use (another Switchboard?); pass --port`);
      expect(error.stdout).not.toMatch(/Dashboard: http/);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it('with --no-dashboard binds no dashboard port; --experience-dir and --checkpoint-interval keep checkpoints of a temporary run', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-cli-experience-'));
    try {
      const checkpoint = join(dir, 'latest.ckpt');
      // The port is taken: had a dashboard tried to listen, the run would have stopped with an error.
      const { stdout, exitCode } = await runUntil(
        ['--port', String(port), '--no-dashboard', '--experience-dir', dir, '--checkpoint-interval', '1'],
        (out) => statusLines(out).length >= 1,
        // A checkpoint written while it runs comes from the interval; the one at stop would come too late for this wait.
        () => until(() => existsSync(checkpoint), 30_000, 'a periodic checkpoint'),
      );
      expect(exitCode).toBe(0);
      expect(stdout).not.toMatch(/Dashboard: http/);
      expect(stdout).toContain(`Experience checkpoints: ${dir}`);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    }
  }, 90_000);

  it('takes serving settings from --config, with the options given on the command line over them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-cli-'));
    try {
      writeFileSync(join(dir, 'm.onnx'), smallMlp());
      writeFileSync(join(dir, 'serving.json'), JSON.stringify({ workers: { count: 3 }, batching: { maxBatchSize: 16 } }));
      const base = ['--model', join(dir, 'm.onnx'), '--config', join(dir, 'serving.json'), '--duration', '1', '--load', '0', '--port', '0'];
      expect((await cli(base)).stdout).toMatch(/\(dynamic batching, 3 workers\)/);
      expect((await cli([...base, '--workers', '1'])).stdout).toMatch(/\(dynamic batching, 1 worker\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('stops before starting anything, with the typed error, on a bad --config, setting or repository path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchboard-cli-'));
    const failure = async (args: string[]) =>
      (await cli(args).catch((e: unknown) => e)) as { code: number; stdout: string; stderr: string };
    try {
      writeFileSync(join(dir, 'broken.json'), '{"workers": {"count": 3}');
      writeFileSync(join(dir, 'out-of-range.json'), JSON.stringify({ queue: { capacity: 0 } }));
      writeFileSync(join(dir, 'a-file'), 'not a directory');
      const broken = await failure(['--config', join(dir, 'broken.json'), '--port', '0']);
      expect(broken.code).toBe(1);
      expect(broken.stderr).toMatch(/switchboard: INVALID_CONFIG: --config .*broken\.json: .*JSON/);
      const outOfRange = await failure(['--config', join(dir, 'out-of-range.json'), '--port', '0']);
      expect(outOfRange.stderr).toMatch(/switchboard: INVALID_CONFIG: --config .*out-of-range\.json: .*queue\.capacity/s);
      const repository = await failure(['--repository', join(dir, 'a-file'), '--port', '0']);
      expect(repository.code).toBe(1);
      expect(repository.stderr).toMatch(/switchboard: REPOSITORY_PATH: cannot use .*a-file as the model repository/);
      for (const run of [broken, outOfRange, repository]) expect(run.stdout).not.toMatch(/Dashboard: http/);
      const zeroWorkers = await failure(['--workers', '0']);
      expect(zeroWorkers.code).toBe(1);
      expect(zeroWorkers.stderr).toMatch(/--workers <n>.*expected a positive integer/s);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('warns when the dashboard listens beyond loopback', async () => {
    const { stdout, stderr } = await cli(['--bind', '0.0.0.0', '--port', '0', '--demo', 'none', '--duration', '1']);
    expect(stdout).toMatch(/Dashboard: http:\/\/0\.0\.0\.0:\d+\/\?token=/);
    expect(stderr).toMatch(/warning: the dashboard listens on 0\.0\.0\.0, beyond this machine; its token is all that guards/);
    const quiet = await cli(['--port', '0', '--demo', 'none', '--duration', '1']);
    expect(quiet.stderr).not.toMatch(/warning: the dashboard listens/);
  });

  it('refuses a malformed option with usage help', async () => {
    const error = (await cli(['--load', 'many']).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(error.code).toBe(1);
    expect(error.stderr).toMatch(/--load <n>.*expected a non-negative integer/s);
    expect(error.stderr).toMatch(/Usage: switchboard serve/);
  });
});
