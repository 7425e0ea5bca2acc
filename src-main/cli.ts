#!/usr/bin/env node
/**
 * Headless Switchboard: the engine on the built-in demo policy (or a model you name)
 * with a synthetic load, printing a one-line summary every second.
 *
 *   switchboard serve [--model path.onnx] [--workers 2] [--load 64] [--load-rate 5000]
 */
import { readFile } from 'node:fs/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_MODEL_NAME, defaultPolicyModel } from './demo/default-model.js';
import { SyntheticLoad } from './demo/synthetic-load.js';
import { Engine, EngineError, type ModelServingConfigInput } from './engine/index.js';
import { summaryLine } from './server/summary-line.js';

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a non-negative integer');
  return n;
}

interface ServeOptions {
  model?: string;
  name: string;
  config?: string;
  workers: number;
  intraOpThreads: number;
  maxBatch: number;
  maxDelayUs: number;
  queueCapacity: number;
  load: number;
  loadRate: number;
  duration: number;
}

async function servingConfig(options: ServeOptions): Promise<ModelServingConfigInput> {
  const fromFile = options.config ? (JSON.parse(await readFile(options.config, 'utf8')) as ModelServingConfigInput) : {};
  return {
    ...fromFile,
    workers: { ...fromFile.workers, count: options.workers, intraOpThreads: options.intraOpThreads },
    batching: { ...fromFile.batching, maxBatchSize: options.maxBatch, maxQueueDelayUs: options.maxDelayUs },
    queue: { ...fromFile.queue, capacity: options.queueCapacity },
  };
}

async function serve(options: ServeOptions): Promise<void> {
  const engine = new Engine();
  const source = options.model ?? defaultPolicyModel();
  const name = options.model ? options.name : DEFAULT_MODEL_NAME;
  const model = await engine.loadModel({ name, source, config: await servingConfig(options) });
  const plan = model.plan;
  console.log(
    `Switchboard engine: model "${name}" (${options.model ?? 'built-in demo policy MLP 64-256-256-8'}), ` +
      `${plan.mode} batching up to ${plan.maxRows} rows, ${options.workers} workers`,
  );
  const load = options.load > 0 ? new SyntheticLoad(model, { concurrency: options.load, ratePerSecond: options.loadRate }) : undefined;
  load?.start();
  if (load) console.log(`Synthetic load: ${options.load} actors${options.loadRate > 0 ? `, ${options.loadRate} req/s` : ', unthrottled'}`);
  const ticker = setInterval(() => console.log(summaryLine(engine.snapshot())), 1000);
  engine.onEvent((event) => {
    if (event.level !== 'info') console.error(`[${event.level}] ${event.message}`);
  });

  let stopping = false;
  const shutdown = async (reason: string) => {
    if (stopping) return;
    stopping = true;
    clearInterval(ticker);
    console.log(`Stopping (${reason}): draining...`);
    await load?.stop();
    await engine.stop();
    console.log(summaryLine(engine.snapshot()));
    console.log('Stopped.');
  };
  const done = new Promise<void>((resolve) => {
    const finish = (reason: string) => void shutdown(reason).then(resolve);
    process.once('SIGINT', () => finish('SIGINT'));
    process.once('SIGTERM', () => finish('SIGTERM'));
    if (options.duration > 0) setTimeout(() => finish(`--duration ${options.duration}s`), options.duration * 1000);
  });
  await done;
}

const program = new Command()
  .name('switchboard')
  .description('Monitor and control a live ONNX inference engine (headless).')
  .showHelpAfterError();

program
  .command('serve', { isDefault: true })
  .description('run the engine on a model (default: the built-in demo policy) with a synthetic load')
  .option('--model <path>', 'ONNX model file to serve instead of the built-in demo policy')
  .option('--name <name>', 'model name when --model is given', 'model')
  .option('--config <path>', 'JSON serving config (batching, queue, rateLimit, workers, checkFinite)')
  .addOption(new Option('--workers <n>', 'inference worker threads').argParser(positiveInt).default(2))
  .addOption(new Option('--intra-op-threads <n>', 'onnxruntime threads per worker').argParser(positiveInt).default(1))
  .addOption(new Option('--max-batch <n>', 'rows per batch at most').argParser(positiveInt).default(128))
  .addOption(new Option('--max-delay-us <n>', 'longest wait for a fuller batch, microseconds').argParser(positiveInt).default(500))
  .addOption(new Option('--queue-capacity <n>', 'requests the queue holds at most').argParser(positiveInt).default(4096))
  .addOption(new Option('--load <n>', 'synthetic actors (0: none)').argParser(positiveInt).default(64))
  .addOption(new Option('--load-rate <n>', 'synthetic requests per second in total (0: unthrottled)').argParser(positiveInt).default(5000))
  .addOption(new Option('--duration <s>', 'stop after this many seconds (0: run until Ctrl-C)').argParser(positiveInt).default(0))
  .action(async (options: ServeOptions) => {
    await serve(options);
  });

program.parseAsync().catch((error: unknown) => {
  if (error instanceof EngineError) {
    console.error(`switchboard: ${error.code}: ${error.message}`);
  } else {
    console.error(error);
  }
  process.exitCode = 1;
});
