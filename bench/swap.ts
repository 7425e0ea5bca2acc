/**
 * npm run bench:swap [-- --quick]
 *
 * The engine serves the demo policy to 64 closed-loop clients while new versions are
 * published into a model repository, validated by the real updater process and swapped
 * in, one after another. Measures what a swap costs the clients: failures, lost
 * requests (each client gives a request LOST_AFTER_MS; one neither answered nor failed by
 * then is counted lost and the client goes on, so a lost request shows instead of hanging the run), p99 latency in steady state and during swaps, the longest stall (no answer
 * while requests were outstanding), and the host's RSS across the swaps. It also says where
 * the slowest requests of the swaps fall: sent while the updater validated the next version
 * (from one swap to the next version's verdict) or while the engine loaded it (from the
 * verdict to the swap). The last line printed is the JSON result.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import * as hdr from 'hdr-histogram-js';
import { Engine } from '../src-main/engine/index.js';
import { DEFAULT_POLICY_LAYERS, defaultPolicyModel } from '../src-main/demo/default-model.js';
import { ModelCoordinator } from '../src-main/repository/coordinator.js';
import { forkLauncher } from '../src-main/updater/launcher.js';
import { UpdaterSupervisor } from '../src-main/updater/supervisor.js';
import { TestRepository } from '../test/fixtures/repository.js';
import { log, quick, round } from './lib.js';

const CLIENTS = 64;
/** Each client's pace: a request every this many ms (0 = as fast as answers come, saturating the CPU). */
const CLIENT_INTERVAL_MS = Number(process.env.SWAP_BENCH_INTERVAL_MS ?? 3);
const SWAPS = quick ? 30 : 210; // the first 10 warm up the RSS baseline
const STEADY_MS = quick ? 3000 : 8000;

const repo = new TestRepository();
const engine = new Engine();
const supervisor = new UpdaterSupervisor(
  forkLauncher(),
  { settings: { repository: repo.root, scanIntervalMs: 50, settleMs: 0 } },
  engine.events,
);
const coordinator = new ModelCoordinator(engine, supervisor, repo.root, engine.events);

const histogram = () => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
let phase: 'warmup' | 'steady' | 'swaps' | 'done' = 'warmup';
const latency = { steady: histogram(), swaps: histogram() };
let sent = 0;
let answered = 0;
let failed = 0;
/** Requests neither answered nor failed within LOST_AFTER_MS of being sent; and those answered after it. */
let lost = 0;
let answeredLate = 0;
const LOST_AFTER_MS = 10_000;
const LOST = Symbol('lost');

/** The request's outcome, or LOST once the client's deadline passes first (a late outcome is counted apart). */
async function withDeadline<T>(request: Promise<T>): Promise<T | typeof LOST> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<typeof LOST>((resolve) => (timer = setTimeout(() => resolve(LOST), LOST_AFTER_MS)));
  const outcome = await Promise.race([request, deadline]);
  clearTimeout(timer);
  if (outcome === LOST)
    request.then(
      () => answeredLate++,
      () => answeredLate++,
    );
  return outcome;
}
let lastAnswerAt = 0;
/** Requests of the swap phase (sent at, took ms) and when each version's verdict and swap came. */
const sentDuringSwaps: [number, number][] = [];
const swapMarks: { kind: 'validated' | 'swapped'; atMs: number }[] = [];
engine.onEvent((event) => {
  if (phase !== 'swaps') return;
  if (event.kind === 'version-validated') swapMarks.push({ kind: 'validated', atMs: performance.now() });
  if (event.kind === 'model-swapped') swapMarks.push({ kind: 'swapped', atMs: performance.now() });
});

/** Of the requests at or above the swap phase's p99, how many were sent in each stretch. */
function slowestByStretch(p99Ms: number): Record<'validating' | 'loading', { requests: number; at_or_over_p99: number; ms: number }> {
  const stretches = { validating: { requests: 0, at_or_over_p99: 0, ms: 0 }, loading: { requests: 0, at_or_over_p99: 0, ms: 0 } };
  const stretchOf = (kind: 'validated' | 'swapped') => (kind === 'validated' ? stretches.loading : stretches.validating);
  for (let i = 0; i + 1 < swapMarks.length; i++) stretchOf(swapMarks[i]!.kind).ms += swapMarks[i + 1]!.atMs - swapMarks[i]!.atMs;
  let mark = -1;
  for (const [sentAt, tookMs] of sentDuringSwaps.sort((a, b) => a[0] - b[0])) {
    while (mark + 1 < swapMarks.length && swapMarks[mark + 1]!.atMs <= sentAt) mark++;
    const stretch = stretchOf(mark >= 0 ? swapMarks[mark]!.kind : 'swapped'); // before the first verdict: validating
    stretch.requests++;
    if (tookMs >= p99Ms) stretch.at_or_over_p99++;
  }
  for (const s of Object.values(stretches)) s.ms = round(s.ms);
  return stretches;
}
let maxStallMs = 0;
let running = true;

function active(): number | null {
  return engine.modelNames().includes('policy') ? engine.model('policy').version : null;
}

async function waitFor(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

async function client(index: number): Promise<void> {
  const data = new Float32Array(DEFAULT_POLICY_LAYERS[0]).map((_, i) => Math.sin(i + index));
  const inputs = { obs: { data, dims: [1, DEFAULT_POLICY_LAYERS[0]] } };
  let next = performance.now();
  while (running) {
    if (CLIENT_INTERVAL_MS > 0) {
      next += CLIENT_INTERVAL_MS;
      const wait = next - performance.now();
      if (wait >= 1) await new Promise((resolve) => setTimeout(resolve, wait));
      else if (wait < -CLIENT_INTERVAL_MS) next = performance.now(); // fell behind: do not burst to catch up
    }
    sent++;
    const t0 = performance.now();
    try {
      if ((await withDeadline(engine.infer('policy', inputs))) === LOST) {
        lost++; // neither answered nor failed in time: counted, and this client goes on
        continue;
      }
      answered++;
      const now = performance.now();
      if (phase === 'steady' || phase === 'swaps') latency[phase].recordValue(Math.max(1, Math.round((now - t0) * 1000)));
      if (phase === 'swaps') {
        maxStallMs = Math.max(maxStallMs, now - lastAnswerAt);
        sentDuringSwaps.push([t0, now - t0]);
      }
      lastAnswerAt = now;
    } catch (error) {
      failed++;
      if (failed <= 3) log(`request failed: ${(error as Error).message}`);
    }
  }
}

// Model bytes are made before the clock starts: generating weights on the host's thread
// during the swaps would be measured as the engine's stall. Versions cycle through them.
const modelPool = Array.from({ length: 8 }, (_, i) => defaultPolicyModel(i + 1));

try {
  await repo.publish('policy', 1, modelPool[0]!);
  coordinator.start();
  await waitFor(() => active() === 1, 30_000, 'version 1');
  const clients = Array.from({ length: CLIENTS }, (_, i) => client(i));
  await new Promise((resolve) => setTimeout(resolve, 1000));
  phase = 'steady';
  await new Promise((resolve) => setTimeout(resolve, STEADY_MS));
  log(`steady: p99 ${latency.steady.getValueAtPercentile(99) / 1000} ms over ${latency.steady.totalCount} requests`);
  phase = 'swaps';
  // SWAP_BENCH_PROFILE=file.cpuprofile records the host's main thread during the swaps.
  const profiler = process.env.SWAP_BENCH_PROFILE ? new Session() : undefined;
  if (profiler) {
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.start');
  }
  lastAnswerAt = performance.now();
  let rssStart = 0;
  const swapStarted = performance.now();
  for (let version = 2; version <= SWAPS + 1; version++) {
    await repo.publish('policy', version, modelPool[(version - 1) % modelPool.length]!);
    await waitFor(() => active() === version, 30_000, `version ${version}`);
    if (version === 11) rssStart = process.memoryUsage().rss;
    if ((version - 1) % 10 === 0) log(`${version - 1} swaps, rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(1)} MiB`);
  }
  const swapMs = performance.now() - swapStarted;
  phase = 'done';
  if (profiler) {
    const { profile } = await profiler.post('Profiler.stop');
    writeFileSync(process.env.SWAP_BENCH_PROFILE!, JSON.stringify(profile));
    profiler.disconnect();
  }
  const rssEnd = process.memoryUsage().rss;
  running = false;
  await Promise.all(clients);
  const lat = engine.snapshot().models[0]!.latencyMs;
  log(
    `engine-side p99 over the last ${engine.snapshot().windowSeconds} s: queued ${lat.queue.p99Ms} ms, compute ${lat.compute.p99Ms} ms, total ${lat.total.p99Ms} ms`,
  );
  const failedSwaps = engine.swapHistory('policy').filter((s) => !s.ok);
  if (failedSwaps.length > 0) log(`failed swaps: ${JSON.stringify(failedSwaps)}`);
  const result = {
    swaps: SWAPS,
    requests: sent,
    answered,
    failed,
    lost,
    answered_late: answeredLate,
    lost_after_ms: LOST_AFTER_MS,
    p99_ms_steady: round(latency.steady.getValueAtPercentile(99) / 1000),
    p99_ms_during_swaps: round(latency.swaps.getValueAtPercentile(99) / 1000),
    max_stall_ms: round(maxStallMs),
    rss_mb_start: round(rssStart / 2 ** 20, 1),
    rss_mb_end: round(rssEnd / 2 ** 20, 1),
    slowest_by_stretch: slowestByStretch(latency.swaps.getValueAtPercentile(99) / 1000),
  };
  log(`${SWAPS} swaps in ${(swapMs / 1000).toFixed(1)} s (${(swapMs / SWAPS).toFixed(0)} ms each, publish to active)`);
  console.log(JSON.stringify(result));
} finally {
  running = false;
  await coordinator.stop();
  await engine.stop();
  repo.cleanup();
}
