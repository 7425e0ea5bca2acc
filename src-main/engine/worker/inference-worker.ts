/**
 * Inference worker thread: one onnxruntime session per model version, running batches
 * that the engine assembled in a shared arena. ORT blocks the thread it runs on, which
 * is why this is a worker and not the main thread. ORT also refuses SharedArrayBuffer
 * tensors, so each input is copied into a private ArrayBuffer before `run`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { slotViews, type ArenaLayout } from '../arena.js';
import { copyTensorBytes, dtypeInfo, type TensorData } from '../dtypes.js';
import type { PlannedTensor, ServingPlan } from '../signature.js';
import { STATUS_FIELDS, Status, WorkerPhase, type FaultKind, type FromWorker, type ToWorker, type WorkerInit } from './protocol.js';

if (!parentPort) throw new Error('inference-worker must run in a worker thread');
const port = parentPort;
const init = workerData as WorkerInit;
const status = new BigInt64Array(init.status, 0, STATUS_FIELDS);

interface Attached {
  readonly plan: ServingPlan;
  readonly inputViews: TensorData[][]; // [slot][input]
  readonly outputViews: TensorData[][]; // [slot][output]
  readonly staging: TensorData[]; // ArrayBuffer-backed, one per input
}

interface VersionState {
  session: ort.InferenceSession;
  attached?: Attached;
}

const versions = new Map<number, VersionState>();
let pendingFault: FaultKind | undefined;

function send(message: FromWorker): void {
  port.postMessage(message);
}

function beat(): void {
  Atomics.store(status, Status.heartbeatMs, BigInt(Date.now()));
}

function spinForever(): never {
  // A hang that only terminate() ends: the watchdog test needs a thread stuck in JS.
  for (;;) {
    /* deliberately blocked */
  }
}

function applyFault(kind: FaultKind): void {
  if (kind === 'crash-now') process.exit(70);
  if (kind === 'hang-now') spinForever();
  pendingFault = kind;
}

async function load(version: number, model: Uint8Array, intraOpThreads: number): Promise<void> {
  const started = performance.now();
  Atomics.store(status, Status.batchStartedMs, BigInt(Date.now()));
  Atomics.store(status, Status.state, WorkerPhase.loading);
  try {
    const session = await ort.InferenceSession.create(model, {
      intraOpNumThreads: intraOpThreads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    });
    versions.set(version, { session });
    send({
      type: 'loaded',
      version,
      inputs: session.inputMetadata.map((m) => ({ ...m })),
      outputs: session.outputMetadata.map((m) => ({ ...m })),
      loadMs: performance.now() - started,
    });
  } catch (error) {
    send({ type: 'load-failed', version, message: error instanceof Error ? error.message : String(error) });
  } finally {
    Atomics.store(status, Status.state, WorkerPhase.idle);
    beat();
  }
}

function attach(version: number, sab: SharedArrayBuffer, layout: ArenaLayout, plan: ServingPlan): void {
  const state = versions.get(version);
  if (!state) return;
  const inputViews: TensorData[][] = [];
  const outputViews: TensorData[][] = [];
  for (let slot = 0; slot < layout.slots; slot++) {
    inputViews.push(slotViews(sab, layout, slot, plan.inputs, layout.inputs));
    outputViews.push(slotViews(sab, layout, slot, plan.outputs, layout.outputs));
  }
  const staging = plan.inputs.map((t: PlannedTensor) => new (dtypeInfo(t.dtype).ctor)(t.rowElements * plan.maxRows));
  state.attached = { plan, inputViews, outputViews, staging };
}

async function run(batchId: number, version: number, slot: number, rows: number): Promise<void> {
  const state = versions.get(version);
  if (!state?.attached) {
    send({ type: 'run-failed', batchId, message: `model version ${version} is not loaded in this worker` });
    return;
  }
  if (pendingFault === 'crash-next-batch') process.exit(70);
  const { plan, inputViews, outputViews, staging } = state.attached;
  const started = performance.now();
  Atomics.store(status, Status.batchStartedMs, BigInt(Date.now()));
  Atomics.store(status, Status.state, WorkerPhase.busy);
  if (pendingFault === 'hang-next-batch') spinForever(); // as a native run that never returns
  try {
    const feeds: Record<string, ort.Tensor> = {};
    for (let i = 0; i < plan.inputs.length; i++) {
      const spec = plan.inputs[i]!;
      const n = rows * spec.rowElements;
      const target = staging[i]!.subarray(0, n);
      // Copy out of shared memory: ORT rejects SAB-backed tensors.
      copyTensorBytes(target, inputViews[slot]![i]!.subarray(0, n));
      feeds[spec.name] = new ort.Tensor(spec.dtype, target, [rows, ...spec.rowShape]);
    }
    const results = await state.session.run(feeds);
    for (let o = 0; o < plan.outputs.length; o++) {
      const spec = plan.outputs[o]!;
      const out = results[spec.name];
      const n = rows * spec.rowElements;
      if (!out || out.data.length !== n || !ArrayBuffer.isView(out.data) || out.type !== spec.dtype) {
        throw new Error(`output "${spec.name}" has ${out?.data.length ?? 0} ${out?.type ?? ''} elements, expected ${n} ${spec.dtype}`);
      }
      copyTensorBytes(outputViews[slot]![o]!, out.data);
    }
    const computeMs = performance.now() - started;
    Atomics.add(status, Status.batches, 1n);
    Atomics.add(status, Status.rows, BigInt(rows));
    Atomics.add(status, Status.busyUs, BigInt(Math.round(computeMs * 1000)));
    send({ type: 'done', batchId, computeMs });
    if (pendingFault === 'crash-after-batch') process.exit(70);
  } catch (error) {
    send({ type: 'run-failed', batchId, message: error instanceof Error ? error.message : String(error) });
  } finally {
    Atomics.store(status, Status.state, WorkerPhase.idle);
    beat();
  }
}

// Runs are serialised: ORT's run is synchronous in effect, and a strict order keeps
// the worker's view of its arena slots simple.
let chain: Promise<void> = Promise.resolve();
const heartbeat = setInterval(beat, init.heartbeatIntervalMs);

port.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'load':
      chain = chain.then(() => load(message.version, message.model, message.intraOpThreads));
      break;
    case 'attach':
      chain = chain.then(() => attach(message.version, message.sab, message.layout, message.plan));
      break;
    case 'release':
      chain = chain.then(async () => {
        const state = versions.get(message.version);
        versions.delete(message.version);
        await state?.session.release();
      });
      break;
    case 'run':
      chain = chain.then(() => run(message.batchId, message.version, message.slot, message.rows));
      break;
    case 'fault':
      applyFault(message.kind);
      break;
    case 'shutdown':
      chain = chain.then(async () => {
        clearInterval(heartbeat);
        for (const state of versions.values()) await state.session.release();
        versions.clear();
        port.close();
      });
      break;
  }
});

beat();
Atomics.store(status, Status.state, WorkerPhase.idle);
