/** Starts the built headless product (out/main/cli.js) and reads the dashboard URL it prints. */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface RunningServer {
  url: string;
  origin: string;
  token: string;
  /** The inference API's base URL as printed; null when it is off. */
  inferenceUrl: string | null;
  repository: string;
  output: () => string;
  publishCopyOf(model: string, fromVersion: number, toVersion: number): void;
  publish(model: string, version: number, bytes: Uint8Array): void;
  stop(): Promise<void>;
}

/** `args` are the CLI's options; without any, the product's default (the CartPole loop). */
export async function startServer(args: string[] = []): Promise<RunningServer> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['out/main/cli.js', '--port', '0', '--http-port', '0', '--grpc-port', '0', '--metrics-port', '0', ...args],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const deadline = Date.now() + 30_000;
  while (!/Dashboard: (\S+)/.test(output) || !/model repository (\S+)/.test(output)) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`server did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const url = /Dashboard: (\S+)/.exec(output)![1]!;
  const repository = /model repository (\S+)/.exec(output)![1]!;
  const parsed = new URL(url);
  // Staged then renamed, so the watcher never sees a half-written version.
  const publish = (model: string, version: number, bytes: Uint8Array): void => {
    const staging = join(repository, model, `.staging-${version}`);
    mkdirSync(staging, { recursive: true });
    writeFileSync(join(staging, 'model.onnx'), bytes);
    renameSync(staging, join(repository, model, String(version)));
  };
  return {
    url,
    origin: parsed.origin,
    token: parsed.searchParams.get('token')!,
    inferenceUrl: /Inference HTTP: (\S+)/.exec(output)?.[1] ?? null,
    repository,
    output: () => output,
    publishCopyOf(model, fromVersion, toVersion) {
      publish(model, toVersion, readFileSync(join(repository, model, String(fromVersion), 'model.onnx')));
    },
    publish,
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGINT');
      await exited;
    },
  };
}
