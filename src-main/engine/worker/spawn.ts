/**
 * Starts a worker thread from one of the engine's own modules, whether the engine runs
 * from TypeScript sources (tests, benchmarks, `tsx`) or from the bundle electron-vite
 * builds. In the bundle every entry sits flat in one folder (see electron.vite.config.ts),
 * so a worker is found by its built name next to the calling chunk.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

export interface WorkerEntry {
  /** import.meta.url of the module that names the worker. */
  readonly callerUrl: string;
  /** Path of the worker's TypeScript source, relative to the caller. */
  readonly source: string;
  /** File name of the worker's bundle entry, e.g. "inference-worker.js". */
  readonly built: string;
}

const runningFromSource = import.meta.url.endsWith('.ts');

export function spawnModuleWorker(entry: WorkerEntry, options: WorkerOptions): Worker {
  if (!runningFromSource) return new Worker(new URL(`./${entry.built}`, entry.callerUrl), options);
  // Node 20 does not apply --import loader hooks to a worker's entry module, so a tiny
  // bootstrap registers tsx inside the worker and then imports the real entry.
  const tsxApi = tsxEsmApiUrl();
  const source = new URL(entry.source, entry.callerUrl).href;
  const bootstrap = `import(${JSON.stringify(tsxApi)}).then((api) => api.tsImport(${JSON.stringify(source)}, ${JSON.stringify(source)}));`;
  return new Worker(bootstrap, { ...options, eval: true });
}

/** tsx's ESM API, found through its package.json exports map (require.resolve would pick the CJS build). */
function tsxEsmApiUrl(): string {
  const packageJsonPath = createRequire(import.meta.url).resolve('tsx/package.json');
  const manifest = JSON.parse(readFileSync(packageJsonPath, 'utf8')) as { exports: Record<string, { import: { default: string } }> };
  return pathToFileURL(join(dirname(packageJsonPath), manifest.exports['./esm/api']!.import.default)).href;
}
