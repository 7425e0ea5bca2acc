/**
 * A model version the pool has loaded into its workers: its bytes (for workers started
 * later), signature, serving plan, and the key of the arena layout it runs in.
 */
import { UnsupportedModelError } from './errors.js';
import { signatureFromMetadata, signaturesCompatible, type ModelSignature, type ServingPlan } from './signature.js';
import type { LoadedReply } from './worker-handle.js';

export interface ServedVersion {
  readonly version: number;
  readonly bytes: Uint8Array;
  readonly sha256: string;
  readonly signature: ModelSignature;
  readonly plan: ServingPlan;
  /** Versions with equal plans share arenas. */
  readonly planKey: string;
  readonly loadedAtMs: number;
  /** Session creation time on the slowest worker. */
  readonly loadMs: number;
}

export function planKeyOf(plan: ServingPlan): string {
  return JSON.stringify([plan.mode, plan.maxRows, plan.inputs, plan.outputs]);
}

/** Every worker must see the signature the first one saw: one check, after every load. */
export function checkSameSignature(expected: ModelSignature, reply: LoadedReply, workerId: string): void {
  const difference = signaturesCompatible(expected, signatureFromMetadata(reply.inputs, reply.outputs));
  if (difference) throw new UnsupportedModelError(`worker ${workerId} sees a different signature: ${difference}`);
}
