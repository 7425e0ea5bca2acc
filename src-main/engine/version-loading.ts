/**
 * Loading one new version into a pool's workers: all at once at start, or one worker at
 * a time during a hot swap (each taken out of rotation and let finish its batches first,
 * so the others keep serving). The first worker's signature decides the plan; every
 * other worker must see the same. On any failure the version is unloaded from the
 * workers that took it, and what was serving before is untouched.
 */
import type { ArenaSizing } from './arena.js';
import { IncompatibleModelError, ModelLoadError, WorkerCrashedError } from './errors.js';
import { checkMemoryBudget, type ServingFootprint } from './memory-budget.js';
import { checkSameSignature, planKeyOf, type ServedVersion } from './served-version.js';
import {
  needsProbe,
  planServing,
  signatureFromMetadata,
  signaturesCompatible,
  type BatchingMode,
  type ModelSignature,
  type ProbeEvidence,
  type ServingPlan,
} from './signature.js';
import type { InflightBatch, LoadedReply, WorkerHandle } from './worker-handle.js';

interface Decided {
  readonly signature: ModelSignature;
  readonly plan: ServingPlan;
  readonly planKey: string;
}

/** The signature from the first reply, checked against the active one, and the plan: probed first when `auto` needs evidence. */
async function decide<B extends InflightBatch>(
  handle: WorkerHandle<B>,
  reply: LoadedReply,
  context: LoadContext,
  options: IntroduceOptions,
  version: number,
): Promise<Decided> {
  const signature = signatureFromMetadata(reply.inputs, reply.outputs);
  const difference = options.compareWith && !options.force ? signaturesCompatible(options.compareWith, signature) : undefined;
  if (difference) throw new IncompatibleModelError(`model "${context.model}" version ${version}: ${difference}`);
  const mode = context.batchingMode;
  const evidence = needsProbe(signature, mode) ? (options.evidence ?? (await handle.probe(version))) : null;
  const plan = planServing(signature, context.maxBatchSize, { mode, evidence });
  checkMemoryBudget(plan, context.footprint);
  return { signature, plan, planKey: planKeyOf(plan) };
}

export interface IntroduceOptions {
  /** The probe's evidence from validation (the updater); without it the first worker probes. */
  readonly evidence?: ProbeEvidence;
  /** Check the new signature against this one (names, dtypes, ranks); skipped with `force`. */
  readonly compareWith?: ModelSignature;
  readonly force?: boolean;
  /** Load on every worker at once (start) instead of one after another (hot swap, so others keep serving). */
  readonly parallel?: boolean;
}

export interface LoadContext {
  readonly model: string;
  readonly maxBatchSize: number;
  readonly batchingMode: BatchingMode;
  readonly intraOpThreads: number;
  readonly sizing: ArenaSizing;
  /** What the plan is checked against before any arena is made. */
  readonly footprint: ServingFootprint;
  /** A worker is back in rotation. */
  onCapacity(): void;
  nowMs(): number;
}

export interface VersionSource {
  readonly version: number;
  readonly bytes: Uint8Array;
  readonly sha256: string;
}

export async function loadVersion<B extends InflightBatch>(
  source: VersionSource,
  targets: readonly WorkerHandle<B>[],
  context: LoadContext,
  options: IntroduceOptions,
): Promise<ServedVersion> {
  const { version } = source;
  // The first worker to answer decides the plan (and runs the probe when it is needed); the
  // others wait for that decision and must see the same signature.
  let decision: Promise<Decided> | undefined;
  let decidedOn: WorkerHandle<B> | undefined;
  let slowestMs = 0;
  const loadedOn: WorkerHandle<B>[] = [];
  const loadOne = async (handle: WorkerHandle<B>) => {
    const reply = await handle.load(version, source.bytes, context.intraOpThreads);
    if (!decision) {
      decidedOn = handle;
      decision = decide(handle, reply, context, options, version);
    }
    const first = await decision;
    if (handle !== decidedOn) checkSameSignature(first.signature, reply, handle.id);
    handle.attach(version, first.plan, first.planKey, context.sizing);
    loadedOn.push(handle);
    slowestMs = Math.max(slowestMs, reply.loadMs);
  };
  try {
    if (options.parallel) await Promise.all(targets.map(loadOne));
    else {
      for (const handle of targets) {
        // Take the worker out of rotation and let its batches finish first, so that no
        // batch waits in its mailbox behind the session being created.
        handle.reserve();
        try {
          await handle.whenIdle();
          await loadOne(handle);
        } catch (error) {
          // A worker lost mid-swap is restarted with every version loaded; the others decide.
          if (!(error instanceof WorkerCrashedError)) throw error;
        } finally {
          handle.unreserve();
          context.onCapacity();
        }
      }
    }
    if (!decision) throw new ModelLoadError(`model "${context.model}" version ${version}: no live worker to load it`);
  } catch (error) {
    for (const handle of loadedOn) handle.unload(version);
    throw error;
  }
  const first = await decision;
  return {
    ...source,
    signature: first.signature,
    plan: first.plan,
    planKey: first.planKey,
    loadedAtMs: context.nowMs(),
    loadMs: slowestMs,
  };
}
