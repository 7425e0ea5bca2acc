/**
 * Starts one of the project's own modules in a worker thread or a child process,
 * whether the code runs from TypeScript sources (tests, benchmarks, `tsx`) or from the
 * bundle electron-vite builds. In the bundle every entry sits flat in one folder (see
 * electron.vite.config.ts), so an entry is found by its built name next to the calling
 * chunk.
 */
import { fork, type ChildProcess, type ForkOptions } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

export interface ModuleEntry {
  /** import.meta.url of the module that names the entry. */
  readonly callerUrl: string;
  /** Path of the entry's TypeScript source, relative to the caller. */
  readonly source: string;
  /** File name of the entry in the bundle, e.g. "inference-worker.js". */
  readonly built: string;
}

const runningFromSource = import.meta.url.endsWith('.ts');

function entryUrl(entry: ModuleEntry): URL {
  return runningFromSource ? new URL(entry.source, entry.callerUrl) : new URL(`./${entry.built}`, entry.callerUrl);
}

export function spawnModuleWorker(entry: ModuleEntry, options: WorkerOptions): Worker {
  const url = entryUrl(entry);
  if (!runningFromSource) return new Worker(url, options);
  // Node 20 does not apply --import loader hooks to a worker's entry module, so a tiny
  // bootstrap registers tsx inside the worker and then imports the real entry.
  const tsxApi = tsxEsmApiUrl();
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((api) => api.tsImport(${JSON.stringify(url.href)}, ${JSON.stringify(url.href)}));`;
  return new Worker(bootstrap, { ...options, eval: true });
}

/** A child Node process running the entry, with an IPC channel (child_process.fork). */
export function forkModule(entry: ModuleEntry, options: ForkOptions = {}): ChildProcess {
  const path = fileURLToPath(entryUrl(entry));
  const execArgv = runningFromSource ? ['--import', 'tsx', ...(options.execArgv ?? [])] : options.execArgv;
  return fork(path, [], { ...options, execArgv, serialization: 'advanced' });
}

/** Path of the entry's file, for launchers other than fork (Electron's utilityProcess). */
export function moduleEntryPath(entry: ModuleEntry): string {
  return fileURLToPath(entryUrl(entry));
}

/** tsx's ESM API, found through its package.json exports map (require.resolve would pick the CJS build). */
function tsxEsmApiUrl(): string {
  const packageJsonPath = createRequire(import.meta.url).resolve('tsx/package.json');
  const manifest = JSON.parse(readFileSync(packageJsonPath, 'utf8')) as { exports: Record<string, { import: { default: string } }> };
  return pathToFileURL(join(dirname(packageJsonPath), manifest.exports['./esm/api']!.import.default)).href;
}
