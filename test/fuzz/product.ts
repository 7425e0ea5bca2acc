/**
 * The real headless product for the fuzz suite: `serve` started from the sources as a
 * separate process on loopback, with a model to serve and no synthetic load, so that
 * what the suite measures (its RSS, its answers) is the product's alone.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { SocketCounters } from '../../src-main/server/dashboard-socket.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface Product {
  readonly origin: string;
  readonly host: string;
  readonly port: number;
  readonly token: string;
  readonly pid: number;
  /** Still running (no crash). */
  alive(): boolean;
  /** Resident memory now, from /proc. */
  rssBytes(): number;
  snapshot(): Promise<ProductSnapshot>;
  output(): string;
  stop(): Promise<void>;
}

export interface ProductSnapshot {
  engine: { models: { name: string; version: number }[]; queues: { capacity: number; paused: boolean }[]; workers: unknown[] };
  server?: { sockets: SocketCounters; refusedRequests: number };
  experience: unknown;
}

export async function startProduct(args: string[] = ['--demo', 'synthetic', '--load', '0']): Promise<Product> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', 'src-main/cli.ts', '--port', '0', '--http-port', '0', '--grpc-port', '0', '--metrics-port', '0', ...args],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  const started = Date.now();
  while (!/Dashboard: (\S+)/.test(output)) {
    if (child.exitCode !== null || Date.now() - started > 60_000) throw new Error(`the product did not start:\n${output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const url = new URL(/Dashboard: (\S+)/.exec(output)![1]!);
  const token = url.searchParams.get('token')!;
  const product: Product = {
    origin: url.origin,
    host: url.host,
    port: Number(url.port),
    token,
    pid: child.pid!,
    alive: () => child.exitCode === null && child.signalCode === null,
    rssBytes: () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))![1]) * 1024,
    snapshot: async () => {
      const response = await fetch(`${url.origin}/api/snapshot`, { headers: { Authorization: `Bearer ${token}` } });
      if (response.status !== 200) throw new Error(`/api/snapshot answered ${response.status}`);
      return (await response.json()) as ProductSnapshot;
    },
    output: () => output,
    stop: async () => {
      if (!product.alive()) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGINT');
      await exited;
    },
  };
  // The synthetic demo's model is validated by the updater, then served: the suite fuzzes a product that serves.
  while ((await product.snapshot()).engine.models.length === 0) {
    if (Date.now() - started > 60_000) throw new Error(`no model served within 60 s:\n${output}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return product;
}

/** The product still runs and answers its snapshot correctly: what every class must leave true. */
export async function expectHealthy(product: Product): Promise<ProductSnapshot> {
  if (!product.alive()) throw new Error(`the product died:\n${product.output().slice(-4000)}`);
  const snapshot = await product.snapshot();
  if (!Array.isArray(snapshot.engine.models) || snapshot.engine.models.length !== 1)
    throw new Error(`unexpected snapshot: ${JSON.stringify(snapshot).slice(0, 500)}`);
  return snapshot;
}

/** One line per class for the record: what was sent and what came back. */
export function report(kind: string, counts: Record<string, number>): void {
  console.log(`fuzz ${kind}: ${JSON.stringify(counts)}`);
}
