/**
 * npm run bench:telemetry [-- --quick]
 *
 * What watching costs: engine throughput (256 closed-loop one-row requesters on the demo
 * policy) with no dashboard connected, and with a WebSocket client subscribed to
 * telemetry at 10 Hz, alternating in one run. Each round measures the two side by side;
 * the result is the median round (by its ratio), which a noisy shared machine disturbs
 * least. The last line printed is the JSON result.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { DEFAULT_MODEL_NAME, DEFAULT_POLICY_LAYERS } from '../src-main/demo/default-model.js';
import { SwitchboardHost } from '../src-main/host/switchboard-host.js';
import { CommandExecutor } from '../src-main/host/command-executor.js';
import { DashboardServer } from '../src-main/server/dashboard-server.js';
import { defaultStaticDir } from '../src-main/server/static-files.js';
import { forkLauncher } from '../src-main/updater/launcher.js';
import { SNAPSHOT_TAKEN } from '../src-preload/channels.js';
import { closedLoop, log, measureRound, medianBy, quick, round, type Contender } from './lib.js';

const durationMs = quick ? 1500 : 5000;
const rounds = quick ? 5 : 7;

const host = new SwitchboardHost({ demo: { kind: 'synthetic' }, launcher: forkLauncher() });
const server = new DashboardServer({
  snapshot: () => host.snapshot(),
  commands: new CommandExecutor(host),
  subscribeEvents: (listener) => host.engine.onEvent(listener),
  staticDir: defaultStaticDir(import.meta.url),
  port: 0,
});

async function waitForModel(): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!host.engine.modelNames().includes(DEFAULT_MODEL_NAME)) {
    if (Date.now() > deadline) throw new Error('the demo model did not load');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * The dashboard client runs in its own thread, as a browser would run in its own
 * process: what is measured is the engine side's cost of serving it (snapshots,
 * serialisation, socket writes), not the client's parsing on the engine's thread.
 */
function startClient(url: string): { stop(): Promise<number> } {
  const wsPath = createRequire(import.meta.url).resolve('ws');
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
     const WebSocket = require(workerData.wsPath);
     let snapshots = 0;
     const socket = new WebSocket(workerData.url);
     socket.on('message', (data) => {
       if (JSON.parse(data.toString('utf8')).type !== 'snapshot') return;
       snapshots++;
       socket.send(JSON.stringify(workerData.taken)); // as the dashboard does: ready for the next one
     });
     parentPort.on('message', () => { socket.close(); parentPort.postMessage(snapshots); });`,
    { eval: true, workerData: { url, wsPath, taken: SNAPSHOT_TAKEN } },
  );
  return {
    async stop() {
      const count = new Promise<number>((resolve) => worker.once('message', resolve));
      worker.postMessage('stop');
      const snapshots = await count;
      await worker.terminate();
      return snapshots;
    },
  };
}

/** The engine under load, with or without a 10 Hz dashboard client watching. */
function loadWith(withClient: boolean): Contender<{ rowsPerSecond: number; snapshots: number }> {
  return {
    async measure(ms) {
      const client = withClient ? startClient(`ws://127.0.0.1:${server.port}/ws?token=${server.token}&hz=10`) : undefined;
      if (client) await new Promise((r) => setTimeout(r, 300)); // connected and receiving before the clock starts
      const model = host.engine.model(DEFAULT_MODEL_NAME);
      const inputs = { obs: { data: new Float32Array(DEFAULT_POLICY_LAYERS[0]).fill(0.1), dims: [1, DEFAULT_POLICY_LAYERS[0]] } };
      const result = await closedLoop(256, ms, 1, () => model.infer(inputs));
      const snapshots = (await client?.stop()) ?? 0;
      return { rowsPerSecond: result.rowsPerSecond, snapshots };
    },
    close: () => Promise.resolve(), // the host and server are stopped below
  };
}

try {
  await server.start();
  await host.start();
  await waitForModel();
  const without = loadWith(false);
  const watched = loadWith(true);
  await without.measure(durationMs); // warm-up
  const results: { without: number; with: number; ratio: number }[] = [];
  for (let i = 1; i <= rounds; i++) {
    const [a, b] = await measureRound([without, watched], durationMs, i);
    log(
      `round ${i}: without ${Math.round(a.rowsPerSecond)} rows/s, with a 10 Hz client ${Math.round(b.rowsPerSecond)} rows/s (${b.snapshots} snapshots)`,
    );
    results.push({ without: a.rowsPerSecond, with: b.rowsPerSecond, ratio: b.rowsPerSecond / a.rowsPerSecond });
  }
  const middle = medianBy(results, (r) => r.ratio);
  console.log(
    JSON.stringify({ rows_s_without: Math.round(middle.without), rows_s_with: Math.round(middle.with), ratio: round(middle.ratio) }),
  );
} finally {
  await server.stop();
  await host.stop();
}
