/**
 * Validation of one model file, run in the updater process (in a worker thread there),
 * so that a model that crashes onnxruntime takes down only the updater. A version is
 * valid when: it is within the size limit; onnxruntime loads it; the engine can serve
 * its signature; the signature is compatible with the active version's (unless forced);
 * and a warm-up run on zero inputs returns finite outputs. When the shapes would allow
 * batching along dim 0, the batching probe (engine/batching-probe.ts) runs here too, in
 * isolation, and its evidence travels with the verdict to the engine.
 */
import { checkMemoryBudget, type ServingFootprint } from '../engine/memory-budget.js';
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import { probeBatching, type ProbeTensor } from '../engine/batching-probe.js';
import { dtypeInfo, isNumericDType, type TensorValues } from '../engine/dtypes.js';
import { asError } from '../engine/errors.js';
import {
  batchObstacle,
  planServing,
  signatureFromMetadata,
  signaturesCompatible,
  type BatchingMode,
  type ModelSignature,
  type ProbeEvidence,
} from '../engine/signature.js';

export interface ValidationRequest {
  readonly path: string;
  readonly maxBytes: number;
  readonly activeSignature: ModelSignature | null;
  readonly activeVersion: number | null;
  readonly force: boolean;
  /** How the host would serve it (config.json over the host's defaults): what its arenas would cost is checked against the budget. */
  readonly serving: ServingFootprint & { readonly maxBatchSize: number; readonly batchingMode: BatchingMode };
}

export type Verdict =
  | {
      readonly ok: true;
      readonly sha256: string;
      readonly sizeBytes: number;
      readonly signature: ModelSignature;
      /** The batching probe's evidence; null when the shapes rule batching out, so no probe ran. */
      readonly batching: ProbeEvidence | null;
      readonly timings: { hashMs: number; loadMs: number; warmupMs: number };
    }
  | { readonly ok: false; readonly reason: string; readonly sha256: string | null; readonly sizeBytes: number };

function zeros(dtype: ModelSignature['inputs'][number]['dtype'], count: number): TensorValues {
  return isNumericDType(dtype) ? new (dtypeInfo(dtype).ctor)(count) : new Array<string>(count).fill('');
}

/** onnxruntime's tensor for a probe's (the dtype names are the same). */
function toOrt(tensor: ProbeTensor): ort.Tensor {
  // ort.Tensor's overloads tie each dtype literal to its array type; probeInputs made them match.
  return new ort.Tensor(tensor.dtype as 'float32', tensor.data as Float32Array, tensor.dims);
}

export async function validateModelFile(request: ValidationRequest): Promise<Verdict> {
  const { size } = await stat(request.path);
  if (size > request.maxBytes)
    return { ok: false, reason: `file is ${size} bytes, over the limit of ${request.maxBytes}`, sha256: null, sizeBytes: size };
  const t0 = performance.now();
  const bytes = new Uint8Array(await readFile(request.path));
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  const hashMs = performance.now() - t0;
  const fail = (reason: string): Verdict => ({ ok: false, reason, sha256, sizeBytes: bytes.byteLength });

  let session: ort.InferenceSession;
  const t1 = performance.now();
  try {
    session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  } catch (error) {
    return fail(`onnxruntime cannot load it: ${asError(error).message}`);
  }
  const loadMs = performance.now() - t1;
  try {
    let signature: ModelSignature;
    try {
      signature = signatureFromMetadata(
        session.inputMetadata.map((m) => ({ ...m })),
        session.outputMetadata.map((m) => ({ ...m })),
      );
    } catch (error) {
      return fail(`the engine cannot serve it: ${asError(error).message}`);
    }
    let batching: ProbeEvidence | null = null;
    if (batchObstacle(signature) === undefined) {
      batching = await probeBatching(signature, async (feeds) => {
        const ortFeeds: Record<string, ort.Tensor> = {};
        for (const [name, tensor] of Object.entries(feeds)) ortFeeds[name] = toOrt(tensor);
        const results = await session.run(ortFeeds);
        const out: Record<string, ProbeTensor> = {};
        for (const [name, t] of Object.entries(results)) out[name] = { dtype: t.type as ProbeTensor['dtype'], dims: t.dims, data: t.data };
        return out;
      });
    }
    try {
      const { batchingMode: mode, maxBatchSize } = request.serving;
      checkMemoryBudget(planServing(signature, maxBatchSize, { mode, evidence: batching }), request.serving);
    } catch (error) {
      return fail(`the engine cannot serve it: ${asError(error).message}`);
    }
    if (request.activeSignature && !request.force) {
      const difference = signaturesCompatible(request.activeSignature, signature);
      if (difference)
        return fail(`incompatible with active version ${request.activeVersion}: ${difference} (publish with force to accept)`);
    }
    const t2 = performance.now();
    const feeds: Record<string, ort.Tensor> = {};
    for (const input of signature.inputs) {
      const dims = input.shape.map((d) => (typeof d === 'number' ? d : 1));
      feeds[input.name] = new ort.Tensor(
        input.dtype,
        zeros(
          input.dtype,
          dims.reduce((a, b) => a * b, 1),
        ),
        dims,
      );
    }
    let outputs: ort.InferenceSession.ReturnType;
    try {
      outputs = await session.run(feeds);
    } catch (error) {
      return fail(`warm-up run failed: ${asError(error).message}`);
    }
    const warmupMs = performance.now() - t2;
    for (const spec of signature.outputs) {
      const tensor = outputs[spec.name];
      if (!tensor) return fail(`warm-up run returned no output "${spec.name}"`);
      if (isNumericDType(spec.dtype) && dtypeInfo(spec.dtype).floating) {
        const data = tensor.data as Float32Array | Float64Array;
        for (let i = 0; i < data.length; i++) {
          if (!Number.isFinite(data[i])) return fail(`warm-up output "${spec.name}" holds ${data[i]} at index ${i} for zero inputs`);
        }
      }
    }
    return { ok: true, sha256, sizeBytes: bytes.byteLength, signature, batching, timings: { hashMs, loadMs, warmupMs } };
  } finally {
    await session.release();
  }
}
