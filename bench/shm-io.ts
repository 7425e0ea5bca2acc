/**
 * npm run bench:shm-io [-- --quick]
 *
 * What moving a tensor through a client's shared-memory region costs the server, per
 * tensor size, side by side in alternating rounds: a positioned read or write of the
 * region's descriptor (fs.readSync/writeSync, what src-main/inference/shm uses), the same
 * through libuv's thread pool (fs.read/write, asynchronous), and a copy between two
 * buffers of the process (the floor: what a memory mapping would still cost, since the
 * engine copies into its arena either way). The last line is the JSON result: median
 * microseconds per operation, and each path's ratio to the in-process copy.
 */
import { closeSync, openSync, read, readSync, rmSync, write, writeFileSync, writeSync } from 'node:fs';
import { promisify } from 'node:util';
import { log, median, quick, round } from './lib.js';

const readAsync = promisify(read);
const writeAsync = promisify(write);
const SIZES = [4 * 1024, 32 * 1024, 1024 * 1024, 16 * 1024 * 1024];
const ROUNDS = quick ? 3 : 7;
const BUDGET_BYTES = quick ? 64 * 1024 * 1024 : 256 * 1024 * 1024; // moved per path per round

type Path = 'pread_sync' | 'pwrite_sync' | 'pread_async' | 'pwrite_async' | 'memcpy';
const PATHS: readonly Path[] = ['pread_sync', 'pwrite_sync', 'pread_async', 'pwrite_async', 'memcpy'];

async function timeOps(ops: number, op: () => unknown): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < ops; i++) await op();
  return ((performance.now() - t0) * 1000) / ops;
}

const file = `/dev/shm/switchboard-bench-${process.pid}`;
const result: Record<string, unknown> = {};
try {
  for (const size of SIZES) {
    writeFileSync(file, Buffer.alloc(size, 1));
    const fd = openSync(file, 'r+');
    const target = new Uint8Array(size);
    const source = new Uint8Array(size).fill(2);
    const ops = Math.max(8, Math.floor(BUDGET_BYTES / size));
    const run: Record<Path, () => unknown> = {
      pread_sync: () => readSync(fd, target, 0, size, 0),
      pwrite_sync: () => writeSync(fd, source, 0, size, 0),
      pread_async: () => readAsync(fd, target, 0, size, 0),
      pwrite_async: () => writeAsync(fd, source, 0, size, 0),
      memcpy: () => target.set(source),
    };
    const rounds: Record<Path, number>[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const figures = {} as Record<Path, number>;
      for (const path of PATHS) figures[path] = await timeOps(ops, run[path]);
      rounds.push(figures);
    }
    closeSync(fd);
    const key = size >= 1024 * 1024 ? `${size / 1024 / 1024}MiB` : `${size / 1024}KiB`;
    result[key] = Object.fromEntries(
      PATHS.map((p) => [
        p,
        { us: round(median(rounds.map((r) => r[p]))), ratio_vs_memcpy: round(median(rounds.map((r) => r[p] / r.memcpy))) },
      ]),
    );
    log(`${key}: ${PATHS.map((p) => `${p} ${round(median(rounds.map((r) => r[p])))} µs`).join(', ')}`);
  }
} finally {
  rmSync(file, { force: true });
}
console.log(JSON.stringify(result));
