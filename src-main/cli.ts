#!/usr/bin/env node
/**
 * Headless Switchboard: the engine and the updater on a model repository, or the engine on
 * one model file, with the dashboard served on loopback, printing a one-line summary every
 * second. A repository or model the user gives is served as it is; with neither, a
 * temporary repository runs the built-in CartPole actor-learner demo.
 *
 *   switchboard serve [--repository dir | --model path.onnx] [--demo cartpole|synthetic|none] [--workers 2]
 */
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { SwitchboardHost } from './host/switchboard-host.js';
import { DEFAULT_HTTP_LIMITS } from './inference/inference-http-server.js';
import { CommandExecutor } from './host/command-executor.js';
import { DashboardServer, type DashboardServerOptions } from './server/dashboard-server.js';
import { ListenError } from './server/listen.js';
import { defaultStaticDir } from './server/static-files.js';
import { forkLauncher } from './updater/launcher.js';
import { EngineError, type Engine } from './engine/index.js';
import {
  demoOf,
  ENGINE_DEFAULTS,
  isLoopback,
  loadOf,
  nonNegativeInt,
  portNumber,
  positiveInt,
  servingConfig,
  type ServeOptions,
} from './serve-options.js';
import { summaryLine } from './server/summary-line.js';
import { ProtocolServers } from './host/protocol-servers.js';
import { resolveToken, TokenSourceError, type ResolvedToken } from './server/token-source.js';
import { TokenAuth } from './server/token-auth.js';
import { count } from '../src-preload/format.js';

/**
 * The dashboard server, unless --no-dashboard. Nothing is served without its port: if it
 * cannot listen, `stopStarted` stops what has started (its threads would keep the process
 * alive) and the error goes up.
 */
async function startDashboard(
  options: ServeOptions,
  sources: Pick<DashboardServerOptions, 'snapshot' | 'commands' | 'exportExperience' | 'subscribeEvents' | 'token' | 'uploads'>,
  stopStarted: () => Promise<void>,
): Promise<DashboardServer | undefined> {
  if (!options.dashboard) return undefined;
  const server = new DashboardServer({
    ...sources,
    staticDir: defaultStaticDir(import.meta.url),
    port: options.port,
    bindAddress: options.bind,
    telemetryHz: options.telemetryHz,
  });
  try {
    await server.start();
  } catch (error) {
    await stopStarted();
    throw error;
  }
  console.log(`Dashboard: ${server.url}`);
  if (!isLoopback(options.bind)) {
    console.error(
      `switchboard: warning: the dashboard listens on ${options.bind}, beyond this machine; its token is all that guards the engine's controls, ` +
        'and plain HTTP carries it in the clear. An SSH tunnel to 127.0.0.1 is safer.',
    );
  }
  return server;
}

/**
 * The host on a model repository watched by the updater process, hot-swapping new versions
 * (the default), or on one file (`--model`), served as version 1 without a repository or updater.
 */
async function serveHost(options: ServeOptions): Promise<Running> {
  const demo = demoOf(options);
  const cartpole = demo === 'cartpole' && !options.model;
  // A user's own model or repository gets no synthetic traffic unless asked for: its statistics and metrics stay its clients'.
  const actors = loadOf(options, DEFAULT_LOAD);
  const load = actors > 0 && !cartpole ? { concurrency: actors, ratePerSecond: options.loadRate } : undefined;
  const defaults = (await servingConfig(options)).input;
  const host = options.model
    ? new SwitchboardHost({ modelFile: { name: options.name, path: options.model }, demo: { kind: 'none', load }, defaults })
    : new SwitchboardHost({
        repository: options.repository,
        demo: cartpole
          ? {
              kind: 'cartpole',
              loop: {
                // Beside the models (a dot folder is never taken for a model), unless given.
                checkpointDir: options.experienceDir ?? (options.repository ? join(options.repository, '.experience') : undefined),
                checkpointIntervalMs: options.checkpointInterval * 1000,
              },
            }
          : { kind: demo, load },
        launcher: forkLauncher(),
        defaults,
      });
  const token = await resolveToken({ tokenFile: options.tokenFile });
  await host.start();
  const loop = host.cartpole;
  const protocols = await startProtocols(host, options, token, () => host.stop());
  if (protocols) host.showEndpoints(() => protocols.snapshot());
  const server = await startDashboard(
    options,
    {
      snapshot: () => host.snapshot(),
      commands: new CommandExecutor(host),
      exportExperience: loop ? (which) => loop.experience.exportNpz(which) : undefined,
      uploads: host.uploads,
      subscribeEvents: (listener) => host.engine.onEvent(listener),
      token: token.token,
    },
    async () => {
      await protocols?.stop();
      await host.stop();
    },
  );
  if (protocols?.http) console.log(`Inference HTTP: ${protocols.http.url}`);
  if (protocols?.grpc) console.log(`Inference gRPC: ${protocols.grpc.address}`);
  if (protocols?.metrics) console.log(`Metrics: ${protocols.metrics.url}${options.metricsPublic ? ' (public: no token needed)' : ''}`);
  console.log(tokenLine(token, options));
  console.log(startLine(host, options));
  if (loop) {
    const checkpoint = loop.experience.checkpointStatus();
    console.log(
      checkpoint.dir
        ? `Experience checkpoints: ${checkpoint.dir}${checkpoint.restored ? ` (restored ${checkpoint.restored.items} items)` : ''}`
        : 'Experience checkpoints: off (temporary repository; pass --repository or --experience-dir to keep them)',
    );
  }
  if (host.repository)
    console.log(`Publish a new version: write <repository>/<model>/.tmp/model.onnx, then rename .tmp to the next version number.`);
  if (loop) {
    const resumed = loop.snapshot().learner.resumedFromVersion;
    console.log(
      `Demo: CartPole actors served by the engine, a CEM learner publishing new policy versions${
        resumed === null ? '' : ` (the learner continues from version ${resumed})`
      }`,
    );
  } else if (load)
    console.log(`Synthetic load: ${load.concurrency} actors${options.loadRate > 0 ? `, ${options.loadRate} req/s` : ', unthrottled'}`);
  return {
    events: host.engine.events,
    line: () => {
      // Only what the line shows: not the whole dashboard snapshot.
      return summaryLine(host.engine.snapshot(), host.coordinator?.snapshot()) + (loop ? loopPart(loop) : '');
    },
    stop: async () => {
      await server?.stop();
      await protocols?.stop(); // requests under way are answered: the engine drains after
      await host.stop();
    },
  };
}

/** The inference API and the metrics, unless turned off; nothing is served without its port (see startDashboard). */
async function startProtocols(
  host: SwitchboardHost,
  options: ServeOptions,
  token: ResolvedToken,
  stopStarted: () => Promise<void>,
): Promise<ProtocolServers | undefined> {
  if (!options.inferenceApi && !options.metrics) return undefined;
  try {
    return await ProtocolServers.start(host, {
      auth: new TokenAuth(token.token),
      bindAddress: options.bind,
      httpPort: options.inferenceApi ? options.httpPort : undefined,
      grpcPort: options.inferenceApi && options.grpc ? options.grpcPort : undefined,
      metricsPort: options.metrics ? options.metricsPort : undefined,
      metricsPublic: options.metricsPublic,
      limits: { maxBodyBytes: options.maxBodyBytes, maxTensors: options.maxTensors, maxElements: options.maxElements },
      log: (message) => console.error(message),
    });
  } catch (error) {
    await stopStarted();
    throw error;
  }
}

function tokenLine(token: ResolvedToken, options: ServeOptions): string {
  switch (token.source) {
    case 'file':
      return `Token: from ${options.tokenFile}`;
    case 'new-file':
      return `Token: new, kept in ${options.tokenFile} (readable by you only)`;
    case 'environment':
      return 'Token: from SWITCHBOARD_TOKEN';
    case 'random':
      return `Token: ${token.token} (for this run only; --token-file or SWITCHBOARD_TOKEN keep one)`;
  }
}

/** What was started, in one line. */
function startLine(host: SwitchboardHost, options: ServeOptions): string {
  if (!host.repository) {
    const model = host.engine.model(options.name);
    const workers = host.engine.snapshot().workers.length;
    return `Switchboard engine: model "${options.name}" from ${options.model} (${model.plan.mode} batching, ${workers} worker${workers === 1 ? '' : 's'})`;
  }
  const demo = demoOf(options);
  const origin = !host.repositoryIsTemporary
    ? demo === 'cartpole'
      ? ' (--demo cartpole: the CartPole learner publishes new versions into it)'
      : demo === 'synthetic'
        ? ' (--demo synthetic: the demo policy MLP is published into it if it holds no model)'
        : ' (served as it is: nothing is published into it)'
    : demo === 'cartpole'
      ? ' (temporary; the CartPole learner publishes into it)'
      : demo === 'synthetic'
        ? ' (temporary, seeded with the demo policy MLP 64-256-256-8)'
        : ' (temporary, empty)';
  return `Switchboard engine: model repository ${host.repository}${origin}`;
}

function loopPart(loop: NonNullable<SwitchboardHost['cartpole']>): string {
  const s = loop.snapshot();
  const last = s.learner.generations.at(-1);
  return (
    ` | actors ${count(s.actors?.steps ?? 0)} steps, ${s.actors?.episodes ?? 0} episodes, return ${(s.actors?.meanReturn ?? 0).toFixed(0)} (last 20)` +
    ` | learner gen ${last?.generation ?? 0}${s.learner.solvedAtVersion !== null ? `, solved at v${s.learner.solvedAtVersion}` : ''}`
  );
}

interface Running {
  readonly events: Engine['events'];
  line(): string;
  stop(): Promise<void>;
}

async function serve(options: ServeOptions): Promise<void> {
  const running = await serveHost(options);
  const ticker = setInterval(() => console.log(running.line()), 1000);
  running.events.subscribe((event) => {
    if (event.level !== 'info') console.error(`[${event.level}] ${event.message}`);
  });
  let stopping = false;
  await new Promise<void>((resolve) => {
    const finish = (reason: string) => {
      if (stopping) return;
      stopping = true;
      clearInterval(ticker);
      console.log(`Stopping (${reason}): draining...`);
      void running
        .stop()
        .then(() => {
          console.log(running.line());
          console.log('Stopped.');
        })
        .finally(resolve);
    };
    process.once('SIGINT', () => finish('SIGINT'));
    process.once('SIGTERM', () => finish('SIGTERM'));
    if (options.duration > 0) setTimeout(() => finish(`--duration ${options.duration}s`), options.duration * 1000);
  });
}

const DEFAULT_LOAD = 64;

const program = new Command()
  .name('switchboard')
  .description('Monitor and control a live ONNX inference engine (headless).')
  .showHelpAfterError();

program
  .command('serve', { isDefault: true })
  .description(
    'serve a model repository (watched by the updater) or one model file; with neither, a temporary repository running the CartPole demo',
  )
  .option('--repository <dir>', 'model repository to watch (default: a temporary one)')
  .option('--model <path>', 'serve one ONNX file, without a repository')
  .option('--name <name>', 'model name when --model is given', 'model')
  .option('--config <path>', 'JSON serving config (batching, queue, rateLimit, workers, checkFinite)')
  .addOption(new Option('--workers <n>', `inference worker threads (default ${ENGINE_DEFAULTS.workers.count})`).argParser(positiveInt))
  .addOption(
    new Option('--intra-op-threads <n>', `onnxruntime threads per worker (default ${ENGINE_DEFAULTS.workers.intraOpThreads})`).argParser(
      positiveInt,
    ),
  )
  .addOption(
    new Option('--max-batch <n>', `rows per batch at most (default ${ENGINE_DEFAULTS.batching.maxBatchSize})`).argParser(positiveInt),
  )
  .addOption(
    new Option(
      '--max-delay-us <n>',
      `longest wait for a fuller batch, microseconds (default ${ENGINE_DEFAULTS.batching.maxQueueDelayUs})`,
    ).argParser(nonNegativeInt),
  )
  .addOption(
    new Option('--queue-capacity <n>', `requests the queue holds at most (default ${ENGINE_DEFAULTS.queue.capacity})`).argParser(
      positiveInt,
    ),
  )
  .addOption(
    new Option('--load <n>', `synthetic requesters (default ${DEFAULT_LOAD} with --demo synthetic, otherwise 0)`).argParser(nonNegativeInt),
  )
  .addOption(
    new Option('--load-rate <n>', 'synthetic requests per second in total (0: unthrottled)').argParser(nonNegativeInt).default(5000),
  )
  .addOption(new Option('--duration <s>', 'stop after this many seconds (0: run until Ctrl-C)').argParser(nonNegativeInt).default(0))
  .addOption(new Option('--port <n>', 'dashboard HTTP port (0: any free port)').argParser(portNumber).default(7480))
  .option('--bind <address>', 'address the dashboard binds to; keep loopback unless you know why', '127.0.0.1')
  .addOption(new Option('--telemetry-hz <n>', 'default telemetry rate pushed to dashboards').argParser(positiveInt).default(4))
  .option('--no-dashboard', 'do not start the dashboard server')
  .addOption(
    new Option('--http-port <n>', 'inference API port, the Open Inference Protocol over HTTP (0: any free port)')
      .argParser(portNumber)
      .default(8000),
  )
  .addOption(
    new Option('--grpc-port <n>', 'inference API port, the Open Inference Protocol over gRPC (0: any free port)')
      .argParser(portNumber)
      .default(8001),
  )
  .option('--no-grpc', 'do not serve the inference API over gRPC')
  .option('--no-inference-api', 'do not serve the inference API (HTTP nor gRPC)')
  .addOption(new Option('--metrics-port <n>', 'Prometheus metrics port (0: any free port)').argParser(portNumber).default(8002))
  .option('--no-metrics', 'do not serve the metrics')
  .option('--metrics-public', 'serve the metrics without the token (for a Prometheus that cannot send one)')
  .option(
    '--token-file <path>',
    'keep the token in this file (made, readable by you only, when missing); else SWITCHBOARD_TOKEN, else random per run',
  )
  .addOption(
    new Option(
      '--max-body-bytes <n>',
      `inference request bodies at most, after decompression (default ${DEFAULT_HTTP_LIMITS.maxBodyBytes})`,
    ).argParser(positiveInt),
  )
  .addOption(
    new Option('--max-tensors <n>', `tensors in one inference request at most (default ${DEFAULT_HTTP_LIMITS.maxTensors})`).argParser(
      positiveInt,
    ),
  )
  .addOption(
    new Option('--max-elements <n>', `elements of one tensor at most (default ${DEFAULT_HTTP_LIMITS.maxElements})`).argParser(positiveInt),
  )
  .addOption(
    new Option(
      '--demo <name>',
      'built-in demo: the CartPole actor-learner loop, synthetic load on a policy MLP, or none (default: cartpole on a temporary repository, none on --repository or --model)',
    ).choices(['cartpole', 'synthetic', 'none']),
  )
  .option('--experience-dir <dir>', 'experience buffer checkpoints (default: <repository>/.experience; off for a temporary repository)')
  .addOption(
    new Option('--checkpoint-interval <s>', 'seconds between experience checkpoints (0: on demand and at stop only)')
      .argParser(nonNegativeInt)
      .default(60),
  )
  .action(async (options: ServeOptions) => {
    await serve(options);
  });

/** Which server a port was for, from the options given. */
function listenerName(port: number): { name: string; option: string } {
  const options = program.commands[0]!.opts<ServeOptions>();
  if (options.inferenceApi && port === options.httpPort) return { name: 'inference API', option: '--http-port' };
  if (options.inferenceApi && options.grpc && port === options.grpcPort) return { name: 'inference API over gRPC', option: '--grpc-port' };
  if (options.metrics && port === options.metricsPort) return { name: 'metrics', option: '--metrics-port' };
  return { name: 'dashboard', option: '--port' };
}

program.parseAsync().catch((error: unknown) => {
  if (error instanceof EngineError) {
    console.error(`switchboard: ${error.code}: ${error.message}`);
  } else if (error instanceof ListenError) {
    const which = listenerName(error.port);
    const hint =
      error.systemCode === 'EADDRINUSE'
        ? ` (another Switchboard?); pass ${which.option} with a free port, or ${which.option} 0 for any`
        : '';
    console.error(`switchboard: ${which.name}: ${error.message}${hint}`);
  } else if (error instanceof TokenSourceError) {
    console.error(`switchboard: ${error.message}`);
  } else {
    console.error(error);
  }
  process.exitCode = 1;
});
