/**
 * The processes of bench/protocol.ts: Switchboard's headless product and MLServer, each
 * serving the same ONNX file over the Open Inference Protocol, and the Python load client
 * (bench/protocol_load.py) that drives both. MLServer and the client live in a virtual
 * environment of their own (.venv-bench, gitignored), made here on first use from
 * bench/requirements.txt: MLServer pins what the product's tests do not need.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { log } from './lib.js';

const VENV = resolve('.venv-bench');
const PYTHON = join(VENV, 'bin', 'python');

export class BenchSetupError extends Error {
  override readonly name = 'BenchSetupError';
}

/** The bench's virtual environment, made (about a minute, once) when it is missing or lacks a package. */
export function ensureBenchVenv(): void {
  // Two interpreters: MLServer and tritonclient.grpc both register `inference.*` in protobuf's default pool, so one process cannot import both.
  const imports = (modules: string) => spawnSync(PYTHON, ['-c', `import ${modules}`]).status === 0;
  const ready = () => existsSync(PYTHON) && imports('mlserver, onnxruntime') && imports('tritonclient.http.aio, tritonclient.grpc.aio');
  if (ready()) return;
  log('making .venv-bench (MLServer, onnxruntime, tritonclient) from bench/requirements.txt ...');
  if (!existsSync(PYTHON) && spawnSync('python3', ['-m', 'venv', VENV], { stdio: 'inherit' }).status !== 0)
    throw new BenchSetupError('python3 -m venv .venv-bench failed (is python3-venv installed?)');
  const pip = spawnSync(PYTHON, ['-m', 'pip', 'install', '-q', '--disable-pip-version-check', '-r', 'bench/requirements.txt'], {
    stdio: 'inherit',
  });
  if (pip.status !== 0 || !ready()) throw new BenchSetupError('pip could not install bench/requirements.txt into .venv-bench');
}

export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port'))));
    });
  });
}

/** A served model: where its HTTP API is (host:port, as tritonclient takes it) and the headers it needs. */
export interface ServedPeer {
  readonly name: string;
  readonly hostPort: string;
  readonly grpcHostPort: string;
  readonly headers: Record<string, string>;
  /** Switchboard's metrics URL (MLServer's are not compared). */
  readonly metricsUrl?: string;
  /** Switchboard's process, whose descriptors the benchmark counts. */
  readonly pid?: number;
  stop(): Promise<void>;
}

function collectOutput(child: ChildProcess): () => string {
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  return () => output;
}

function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill(signal);
  return exited;
}

async function waitReady(peer: string, url: string, headers: Record<string, string>, child: ChildProcess, output: () => string) {
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (child.exitCode !== null) throw new BenchSetupError(`${peer} exited while starting:\n${output().slice(-3000)}`);
    const ready = await fetch(url, { headers }).then(
      (r) => r.status === 200,
      (error: unknown) => {
        if (error instanceof TypeError) return false; // not listening yet: fetch reports a refused connection so
        throw error;
      },
    );
    if (ready) return;
    if (Date.now() > deadline) throw new BenchSetupError(`${peer} was not ready after 90 s:\n${output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The built headless product (`npm run build` first) serving `modelPath` as `policy`, with its defaults (2 workers, batches of up to 128 rows, 500 µs). */
export async function startSwitchboard(modelPath: string): Promise<ServedPeer> {
  const child = spawn(
    process.execPath,
    [
      'out/main/cli.js',
      '--model',
      modelPath,
      '--name',
      'policy',
      '--demo',
      'none',
      '--no-dashboard',
      '--http-port',
      '0',
      '--grpc-port',
      '0',
      '--metrics-port',
      '0',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const output = collectOutput(child);
  const deadline = Date.now() + 60_000;
  while (!/^Token: (\S+)/m.test(output())) {
    if (Date.now() > deadline || child.exitCode !== null) throw new BenchSetupError(`Switchboard did not start:\n${output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const base = /^Inference HTTP: (\S+)/m.exec(output())![1]!;
  const headers = { Authorization: `Bearer ${/^Token: (\S+)/m.exec(output())![1]!}` };
  await waitReady('Switchboard', `${base}/v2/models/policy/ready`, headers, child, output);
  return {
    name: 'switchboard',
    hostPort: new URL(base).host,
    grpcHostPort: /^Inference gRPC: (\S+)/m.exec(output())![1]!,
    headers,
    metricsUrl: /^Metrics: (\S+)/m.exec(output())![1]!,
    pid: child.pid,
    stop: () => stopChild(child, 'SIGINT'),
  };
}

/**
 * MLServer serving `modelPath` as `policy` through bench/mlserver/onnx_runtime.py, with
 * adaptive batching on as Switchboard's (up to 128 rows, 500 µs) and two inference
 * workers as Switchboard's two.
 */
export async function startMlserver(modelPath: string, dir: string): Promise<ServedPeer> {
  const [http, grpc, metrics] = [await freePort(), await freePort(), await freePort()];
  mkdirSync(join(dir, 'policy'), { recursive: true });
  writeFileSync(
    join(dir, 'settings.json'),
    JSON.stringify({ host: '127.0.0.1', http_port: http, grpc_port: grpc, metrics_port: metrics, parallel_workers: 2, debug: false }),
  );
  writeFileSync(
    join(dir, 'policy', 'model-settings.json'),
    JSON.stringify({
      name: 'policy',
      implementation: 'onnx_runtime.OnnxRuntime',
      parameters: { uri: modelPath },
      max_batch_size: 128,
      max_batch_time: 0.0005,
    }),
  );
  const child = spawn(resolve(VENV, 'bin', 'mlserver'), ['start', dir], {
    cwd: dir, // MLServer writes its metrics' files (.metrics/) where it runs: in the temporary folder, not the checkout
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PYTHONPATH: resolve('bench', 'mlserver') },
  });
  const output = collectOutput(child);
  await waitReady('MLServer', `http://127.0.0.1:${http}/v2/models/policy/ready`, {}, child, output);
  return {
    name: 'mlserver',
    hostPort: `127.0.0.1:${http}`,
    grpcHostPort: `127.0.0.1:${grpc}`,
    headers: {},
    stop: () => stopChild(child, 'SIGTERM'),
  };
}

export interface LoadSpec {
  url: string;
  headers: Record<string, string>;
  rows: number;
  concurrency: number;
  binary: boolean;
  protocol: 'http' | 'grpc' | 'grpc_stream' | 'grpc_shm';
}

export interface LoadResult {
  requests: number;
  rows: number;
  elapsed_s: number;
  p50_ms: number;
  p99_ms: number;
  failed: number;
  first_error: string | null;
  client_cpu_cores: number;
}

/** The Python load client, one process for the whole run; slices run one at a time. */
export class LoadClient {
  private readonly child = spawn(PYTHON, ['bench/protocol_load.py'], { stdio: ['pipe', 'pipe', 'inherit'] });
  private readonly lines = createInterface({ input: this.child.stdout })[Symbol.asyncIterator]();

  async run(spec: LoadSpec, durationMs: number): Promise<LoadResult> {
    const line = { ...spec, model: 'policy', input: 'obs', output: 'logits', cols: 64, output_cols: 8, duration_s: durationMs / 1000 };
    this.child.stdin.write(`${JSON.stringify(line)}\n`);
    const answer = await this.lines.next();
    if (answer.done) throw new BenchSetupError('the load client exited');
    const result = JSON.parse(answer.value) as LoadResult;
    if (result.first_error) log(`${spec.url}: ${result.failed} requests failed, first: ${result.first_error}`);
    return result;
  }

  stop(): Promise<void> {
    this.child.stdin.end();
    return stopChild(this.child, 'SIGTERM');
  }
}
