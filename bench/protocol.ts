/**
 * npm run bench:protocol [-- --quick]
 *
 * Switchboard's inference API against its peer and its own ceiling, on the small policy MLP
 * (64-256-256-8), in one run:
 *   switchboard_http_json / switchboard_http_binary  the headless product over HTTP, JSON or
 *                                                    Triton's binary tensor extension;
 *   mlserver_http_json  MLServer 1.7.1 with adaptive batching, the same file through
 *                       bench/mlserver/onnx_runtime.py (MLServer has no binary extension:
 *                       JSON is its only HTTP path, and every ratio_vs_mlserver is against it);
 *   switchboard_grpc / switchboard_grpc_stream  the product over gRPC, unary ModelInfer or
 *                       one ModelStreamInfer stream with the same requests in flight;
 *   switchboard_grpc_shm  unary ModelInfer with input and output in system shared memory
 *                       (one input region, one output region with a place per requester,
 *                       registered for each slice and unregistered after it);
 *   mlserver_grpc       MLServer's gRPC (unary: its stream RPC is for generative models),
 *                       the peer of both gRPC paths' ratio_vs_mlserver;
 *   inprocess           the engine called in this process, no protocol at all.
 * Each at concurrency 64 with 1-row requests and at concurrency 8 with 128-row requests. The
 * remote paths take the same load from one client process, tritonclient's asyncio clients
 * (bench/protocol_load.py says why not perf_analyzer). Slices of each contender alternate in
 * rounds (lib.ts `measureRound`) and a ratio is the median of the rounds' own ratios. Then
 * what a Prometheus scrape of Switchboard's /metrics costs, how many shared-memory descriptors
 * Switchboard still holds after every region was unregistered (from /proc/<pid>/fd), and the
 * issue's targets, each with its figure. The last line is the JSON result.
 */
import { readdirSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { buildMlp } from '../src-main/models/mlp.js';
import { startEngine } from './contenders.js';
import { log, measureRound, median, quick, round, tempModelDir, type Contender } from './lib.js';
import { ensureBenchVenv, LoadClient, startMlserver, startSwitchboard, type LoadSpec, type ServedPeer } from './protocol-peers.js';

const SLICE_MS = quick ? 1000 : 3000;
const ROUNDS = quick ? 3 : 5;
const SCENARIOS = [
  { key: 'c64_rows1', concurrency: 64, rows: 1 },
  { key: 'c8_rows128', concurrency: 8, rows: 128 },
] as const;
type Protocol = LoadSpec['protocol'];
const REMOTE = [
  { path: 'switchboard_http_json', peer: 'switchboard', protocol: 'http', binary: false, versus: 'mlserver_http_json' },
  { path: 'switchboard_http_binary', peer: 'switchboard', protocol: 'http', binary: true, versus: 'mlserver_http_json' },
  { path: 'mlserver_http_json', peer: 'mlserver', protocol: 'http', binary: false, versus: 'mlserver_http_json' },
  { path: 'switchboard_grpc', peer: 'switchboard', protocol: 'grpc', binary: true, versus: 'mlserver_grpc' },
  { path: 'switchboard_grpc_stream', peer: 'switchboard', protocol: 'grpc_stream', binary: true, versus: 'mlserver_grpc' },
  { path: 'switchboard_grpc_shm', peer: 'switchboard', protocol: 'grpc_shm', binary: true, versus: 'mlserver_grpc' },
  { path: 'mlserver_grpc', peer: 'mlserver', protocol: 'grpc', binary: true, versus: 'mlserver_grpc' },
] as const satisfies readonly { path: string; peer: 'switchboard' | 'mlserver'; protocol: Protocol; binary: boolean; versus: string }[];
const PATHS = [...REMOTE.map((r) => r.path), 'inprocess'] as const;
type PathName = (typeof PATHS)[number];
const VERSUS = Object.fromEntries(REMOTE.map((r) => [r.path, r.versus])) as Record<PathName, PathName>;
VERSUS.inprocess = 'mlserver_grpc';

interface SliceFigures {
  rowsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  failed: number;
  clientCores: number | null;
}

function remote(load: LoadClient, peer: ServedPeer, spec: Omit<LoadSpec, 'url' | 'headers'>): Contender<SliceFigures> {
  const http = spec.protocol === 'http';
  // gRPC metadata keys are lowercase.
  const headers = http ? peer.headers : Object.fromEntries(Object.entries(peer.headers).map(([k, v]) => [k.toLowerCase(), v]));
  return {
    async measure(durationMs) {
      const r = await load.run({ ...spec, url: http ? peer.hostPort : peer.grpcHostPort, headers }, durationMs);
      return { rowsPerSecond: r.rows / r.elapsed_s, p50Ms: r.p50_ms, p99Ms: r.p99_ms, failed: r.failed, clientCores: r.client_cpu_cores };
    },
    close: () => Promise.resolve(), // the peer outlives the scenario
  };
}

async function inProcess(modelPath: string, concurrency: number, rows: number): Promise<Contender<SliceFigures>> {
  const engine = await startEngine({ modelPath, rowElements: 64, workers: 2 }, concurrency, 128, rows);
  return {
    async measure(durationMs) {
      const r = await engine.measure(durationMs);
      return { rowsPerSecond: r.rowsPerSecond, p50Ms: r.p50Ms, p99Ms: r.p99Ms, failed: r.failed, clientCores: null };
    },
    close: () => engine.close(),
  };
}

async function measureScenario(
  load: LoadClient,
  peers: { switchboard: ServedPeer; mlserver: ServedPeer },
  modelPath: string,
  scenario: (typeof SCENARIOS)[number],
) {
  const spec = { rows: scenario.rows, concurrency: scenario.concurrency };
  const contenders: Contender<SliceFigures>[] = [
    ...REMOTE.map((r) => remote(load, peers[r.peer], { ...spec, binary: r.binary, protocol: r.protocol })),
    await inProcess(modelPath, scenario.concurrency, scenario.rows),
  ];
  const inprocess = contenders.length - 1;
  const rounds: Record<PathName, SliceFigures>[] = [];
  try {
    for (const c of contenders.slice(0, inprocess)) await c.measure(500); // warm-up: connections, JIT, the peers' first batches
    for (let r = 1; r <= ROUNDS; r++) {
      const figures = await measureRound(contenders, SLICE_MS, r);
      const byPath = Object.fromEntries(PATHS.map((p, i) => [p, figures[i]!])) as Record<PathName, SliceFigures>;
      log(
        `[${scenario.key}] round ${r}: ` +
          PATHS.map((p) => `${p} ${Math.round(byPath[p].rowsPerSecond)} rows/s (p99 ${byPath[p].p99Ms.toFixed(2)} ms)`).join(', ') +
          `; client ${PATHS.slice(0, inprocess)
            .map((p) => byPath[p].clientCores?.toFixed(2))
            .join('/')} cores`,
      );
      rounds.push(byPath);
    }
  } finally {
    await contenders[inprocess]!.close();
  }
  const of = (pick: (round: Record<PathName, SliceFigures>) => number) => round(median(rounds.map(pick)));
  return Object.fromEntries(
    PATHS.map((p) => [
      p,
      {
        rows_s: Math.round(of((r) => r[p].rowsPerSecond)),
        p50_ms: of((r) => r[p].p50Ms),
        p99_ms: of((r) => r[p].p99Ms),
        ratio_vs_mlserver: of((r) => r[p].rowsPerSecond / r[VERSUS[p]].rowsPerSecond),
        ratio_vs_inprocess: of((r) => r[p].rowsPerSecond / r.inprocess.rowsPerSecond),
        failed: rounds.reduce((n, r) => n + r[p].failed, 0),
        ...(p === 'inprocess' ? {} : { client_cores: of((r) => r[p].clientCores ?? 0) }),
      },
    ]),
  );
}

/** Wall time and size of a scrape of /metrics, sequential, after the load (every series exists by then). */
async function scrapeCost(peer: ServedPeer): Promise<Record<string, number>> {
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < (quick ? 50 : 200); i++) {
    const t0 = performance.now();
    const text = await (await fetch(peer.metricsUrl!, { headers: peer.headers })).text();
    times.push(performance.now() - t0);
    bytes = text.length;
  }
  return { scrape_p50_ms: round(median(times)), scrape_max_ms: round(Math.max(...times)), scrape_bytes: bytes };
}

/** Descriptors of `pid` open on shared-memory objects. */
function shmDescriptors(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).filter((fd) => {
    try {
      return readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('/dev/shm/');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false; // closed while listed
      throw error;
    }
  }).length;
}

type Results = Record<(typeof SCENARIOS)[number]['key'], Record<PathName, { ratio_vs_mlserver: number; ratio_vs_inprocess: number }>> & {
  shm_descriptors_left: number | null;
};

/** The targets (#16), each with the figure it is judged on. */
function targets(r: Results) {
  const grpc = Math.min(r.c64_rows1.switchboard_grpc.ratio_vs_mlserver, r.c8_rows128.switchboard_grpc.ratio_vs_mlserver);
  const shm = r.c8_rows128.switchboard_grpc_shm.ratio_vs_inprocess;
  return {
    grpc_vs_mlserver_grpc_at_least_3: { figure: grpc, met: grpc >= 3 },
    grpc_shm_128_rows_vs_inprocess_at_least_0_8: { figure: shm, met: shm >= 0.8 },
    no_shm_descriptor_left: { figure: r.shm_descriptors_left, met: r.shm_descriptors_left === 0 },
  };
}

ensureBenchVenv();
const models = tempModelDir();
const modelPath = models.write('policy.onnx', buildMlp({ layers: [64, 256, 256, 8], seed: 7 }));
const started: { stop(): Promise<void> }[] = [];
try {
  const switchboard = await startSwitchboard(modelPath);
  started.push(switchboard);
  const mlserver = await startMlserver(modelPath, join(models.dir, 'mlserver'));
  started.push(mlserver);
  const load = new LoadClient();
  started.push(load);
  log(`policy MLP 64-256-256-8; ${ROUNDS} rounds of ${SLICE_MS} ms per path; load: tritonclient's asyncio clients in one process`);
  const output: Record<string, unknown> = {
    load: 'tritonclient.http.aio and tritonclient.grpc.aio, one process (PyPI serves perf-analyzer 0.1.0 only, a placeholder without the binary)',
  };
  for (const scenario of SCENARIOS) output[scenario.key] = await measureScenario(load, { switchboard, mlserver }, modelPath, scenario);
  output.metrics = await scrapeCost(switchboard);
  output.shm_descriptors_left = switchboard.pid === undefined ? null : shmDescriptors(switchboard.pid);
  output.targets = targets(output as unknown as Results);
  console.log(JSON.stringify(output));
} finally {
  for (const s of started.reverse()) await s.stop();
  models.cleanup();
}
