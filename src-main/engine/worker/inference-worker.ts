/**
 * Inference worker thread: one onnxruntime session per model version, running batches
 * that the engine assembled in a shared arena (row plans) or packed into a byte-sized slot
 * (packed plans: direct and grouped), and the batching probe. ORT blocks the thread it
 * runs on, which is why this is a worker and not the main thread. ORT also refuses
 * SharedArrayBuffer tensors, so inputs are copied into private memory before `run`.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { slotViews } from '../arena.js';
import { inSlot, slotExtent, slotTensorData, SlotPacker, transferList, type RunTensor, type SlotGeometry } from '../byte-arena.js';
import { copyTensorBytes, dtypeInfo, isNumericDType, type TensorData } from '../dtypes.js';
import { PROBE_TOLERANCE, probeBatching, type ProbeTensor } from '../batching-probe.js';
import { isPackedPlan, signatureFromMetadata, type PlannedTensor, type RowPlan, type PackedPlan } from '../signature.js';
import {
  STATUS_FIELDS,
  Status,
  WorkerPhase,
  type FaultKind,
  type FromWorker,
  type ToWorker,
  type WireTensor,
  type WorkerInit,
} from './protocol.js';

if (!parentPort) throw new Error('inference-worker must run in a worker thread');
const port = parentPort;
const init = workerData as WorkerInit;
const status = new BigInt64Array(init.status, 0, STATUS_FIELDS);

interface Attached {
  readonly plan: RowPlan;
  readonly inputViews: TensorData[][]; // [slot][input]
  readonly outputViews: TensorData[][]; // [slot][output]
  readonly staging: TensorData[]; // ArrayBuffer-backed, one per input
}

/** A packed plan's slots, and the private memory a run's slot is staged in (one per arena: runs are serialised). */
interface Packed {
  readonly plan: PackedPlan;
  readonly slots: SlotGeometry | undefined;
  readonly staging: ArrayBuffer | undefined;
}

interface VersionState {
  session: ort.InferenceSession;
  attached?: Attached;
  /** Set when the version's plan is packed per run (direct or grouped). */
  packed?: Packed;
}

/** Staging by arena: versions that share an arena share its staging. */
const stagingOf = new WeakMap<SharedArrayBuffer, ArrayBuffer>();

const versions = new Map<number, VersionState>();
let pendingFault: FaultKind | undefined;

function send(message: FromWorker, transfer?: ArrayBuffer[]): void {
  port.postMessage(message, transfer);
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

function attach(message: Extract<ToWorker, { type: 'attach' }>): void {
  const { version, plan, sab, layout, slots } = message;
  const state = versions.get(version);
  if (!state) return;
  if (isPackedPlan(plan)) {
    let staging = slots && stagingOf.get(slots.sab);
    if (slots && !staging) stagingOf.set(slots.sab, (staging = new ArrayBuffer(slots.slotBytes)));
    state.packed = { plan, slots, staging };
    return;
  }
  if (!sab || !layout) throw new Error(`version ${version}: a row plan is attached with its arena`);
  const inputViews: TensorData[][] = [];
  const outputViews: TensorData[][] = [];
  for (let slot = 0; slot < layout.slots; slot++) {
    inputViews.push(slotViews(sab, layout, slot, plan.inputs, layout.inputs));
    outputViews.push(slotViews(sab, layout, slot, plan.outputs, layout.outputs));
  }
  const staging = plan.inputs.map((t: PlannedTensor) => new (dtypeInfo(t.dtype).ctor)(t.rowElements * plan.maxRows));
  state.attached = { plan, inputViews, outputViews, staging };
}

/** onnxruntime's tensor for one of ours: strings as arrays, every other dtype as its typed array. */
function toOrt(tensor: { readonly dtype: string; readonly dims: readonly number[]; readonly data: unknown }): ort.Tensor {
  // ort.Tensor's overloads tie each dtype literal to its array type; ours are checked by validate.ts.
  return new ort.Tensor(tensor.dtype as 'float32', tensor.data as Float32Array, tensor.dims);
}

/** Our tensor for one of onnxruntime's, in memory of its own (the buffer is transferred, and ORT may reuse its own). */
function fromOrt(name: string, tensor: ort.Tensor): WireTensor {
  const data = ArrayBuffer.isView(tensor.data) ? tensor.data.slice() : [...tensor.data];
  return { name, dtype: tensor.type as WireTensor['dtype'], dims: [...tensor.dims], data };
}

async function run(batchId: number, version: number, slot: number, rows: number, inputs: RunTensor[] | undefined): Promise<void> {
  const state = versions.get(version);
  if (!state?.attached && !state?.packed) {
    send({ type: 'run-failed', batchId, message: `model version ${version} is not loaded in this worker` });
    return;
  }
  if (pendingFault === 'crash-next-batch') process.exit(70);
  const started = performance.now();
  Atomics.store(status, Status.batchStartedMs, BigInt(Date.now()));
  Atomics.store(status, Status.state, WorkerPhase.busy);
  if (pendingFault === 'hang-next-batch') spinForever(); // as a native run that never returns
  try {
    const outputs = state.packed ? await runPacked(state.session, state.packed, slot, inputs ?? []) : await runRows(state, slot, rows);
    const computeMs = performance.now() - started;
    Atomics.add(status, Status.batches, 1n);
    Atomics.add(status, Status.rows, BigInt(rows));
    Atomics.add(status, Status.busyUs, BigInt(Math.round(computeMs * 1000)));
    send({ type: 'done', batchId, computeMs, outputs }, transferList(outputs));
    if (pendingFault === 'crash-after-batch') process.exit(70);
  } catch (error) {
    send({ type: 'run-failed', batchId, message: error instanceof Error ? error.message : String(error) });
  } finally {
    Atomics.store(status, Status.state, WorkerPhase.idle);
    beat();
  }
}

/**
 * A packed plan's run: the slot staged in private memory, the inputs fed from there or as
 * sent, and whatever onnxruntime returns packed back into the slot (the inputs are staged,
 * so the outputs may take the whole slot) or, when it cannot hold them, transferred.
 */
async function runPacked(session: ort.InferenceSession, packed: Packed, slot: number, inputs: RunTensor[]): Promise<RunTensor[]> {
  const { plan, slots, staging } = packed;
  const slotStart = slots ? slot * slots.slotBytes : 0;
  const staged = slotExtent(inputs);
  if (slots && staging && staged > 0) new Uint8Array(staging, 0, staged).set(new Uint8Array(slots.sab, slotStart, staged));
  const feeds: Record<string, ort.Tensor> = {};
  for (const tensor of inputs) {
    // A slot tensor is only sent when the arena has slots, and so staging (attach above).
    const data = inSlot(tensor) ? slotTensorData(tensor, staging!, 0) : tensor.data;
    feeds[tensor.name] = toOrt({ dtype: tensor.dtype, dims: tensor.dims, data });
  }
  const results = await session.run(feeds);
  const packer = new SlotPacker(slots, slot);
  return plan.outputs.map((spec): RunTensor => {
    const out = results[spec.name];
    if (!out) throw new Error(`onnxruntime returned no output "${spec.name}"`);
    if (out.type !== spec.dtype) throw new Error(`output "${spec.name}" is ${out.type}, the model declares ${spec.dtype}`);
    const data = out.data;
    if (!ArrayBuffer.isView(data) || !isNumericDType(spec.dtype)) return fromOrt(spec.name, out);
    return packer.pack(spec.name, spec.dtype, [...out.dims], out.size, (target) => copyTensorBytes(target, data));
  });
}

/** A row plan's run: rows copied out of the slot, outputs written back into it. */
async function runRows(state: VersionState, slot: number, rows: number): Promise<undefined> {
  const { plan, inputViews, outputViews, staging } = state.attached!;
  {
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
  }
  return undefined;
}

/** The batching probe on a loaded version, blocking like a load (the watchdog allows it the startup time). */
async function probe(version: number): Promise<void> {
  const state = versions.get(version);
  if (!state) return;
  Atomics.store(status, Status.batchStartedMs, BigInt(Date.now()));
  Atomics.store(status, Status.state, WorkerPhase.loading);
  try {
    const signature = signatureFromMetadata(
      state.session.inputMetadata.map((m) => ({ ...m })),
      state.session.outputMetadata.map((m) => ({ ...m })),
    );
    const evidence = await probeBatching(signature, async (feeds) => {
      const ortFeeds: Record<string, ort.Tensor> = {};
      for (const [name, tensor] of Object.entries(feeds)) ortFeeds[name] = toOrt(tensor);
      const results = await state.session.run(ortFeeds);
      const out: Record<string, ProbeTensor> = {};
      for (const [name, tensor] of Object.entries(results)) out[name] = fromOrt(name, tensor);
      return out;
    });
    send({ type: 'probed', version, evidence });
  } catch (error) {
    // The probe's own runs are caught inside it; this is anything else, and it is evidence too.
    const message = error instanceof Error ? error.message : String(error);
    send({
      type: 'probed',
      version,
      evidence: {
        rows: 0,
        rowsIndependent: false,
        exact: false,
        maxAbsDiff: null,
        tolerance: PROBE_TOLERANCE,
        difference: null,
        error: message,
      },
    });
  } finally {
    Atomics.store(status, Status.state, WorkerPhase.idle);
    beat();
  }
}

// Runs are serialised: ORT's run is synchronous in effect, and a strict order keeps
// the worker's view of its arena slots simple.
let chain: Promise<void> = Promise.resolve();
const heartbeat = setInterval(beat, init.heartbeatIntervalMs);

/**
 * Queues a task behind the others. Loads, runs and probes report their own failures; a
 * task that throws anyway broke an invariant of this thread, so the thread ends with the
 * reason (the pool hears it as the worker's error and restarts it). Left in the chain, the
 * rejection would instead skip every later message while heartbeats made the thread look well.
 */
function serially(task: () => void | Promise<void>): void {
  chain = chain.then(task).catch((error: unknown) => {
    process.nextTick(() => {
      throw error instanceof Error ? error : new Error(String(error));
    });
  });
}

port.on('message', (message: ToWorker) => {
  switch (message.type) {
    case 'load':
      serially(() => load(message.version, message.model, message.intraOpThreads));
      break;
    case 'attach':
      serially(() => attach(message));
      break;
    case 'probe':
      serially(() => probe(message.version));
      break;
    case 'release':
      serially(async () => {
        const state = versions.get(message.version);
        versions.delete(message.version);
        await state?.session.release();
      });
      break;
    case 'run':
      serially(() => run(message.batchId, message.version, message.slot, message.rows, message.inputs));
      break;
    case 'fault':
      applyFault(message.kind);
      break;
    case 'shutdown':
      serially(async () => {
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
