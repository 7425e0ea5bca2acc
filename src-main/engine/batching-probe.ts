/**
 * The evidence `batching.mode: "auto"` decides on: a model is batched along dim 0 only if
 * several rows of varied values run together give, row for row, the outputs of each row
 * run alone. Time-major models, cumulative ops, or a softmax or normalisation over dim 0
 * fail it and are served one request per run. Pure but for `run`, so the inference
 * worker and the updater's validation run the same probe, and tests drive it with
 * scripted runs.
 */
import { dtypeInfo, isNumericDType, type DType, type NumericDType, type TensorValues } from './dtypes.js';
import type { ModelSignature, ProbeEvidence, TensorSpec } from './signature.js';

export const PROBE_ROWS = 4;
/** The size the probe gives a symbolic dim past dim 0 (a sequence length); one size for all, so dims that must match do. */
export const PROBE_INNER_SIZE = 3;
/** Floating-point outputs may differ this much between batch sizes (kernels block differently); integers must be equal. */
export const PROBE_TOLERANCE = { absolute: 1e-5, relative: 1e-4 } as const;

export interface ProbeTensor {
  readonly dtype: DType;
  readonly dims: readonly number[];
  readonly data: TensorValues;
}

export type ProbeRun = (feeds: Record<string, ProbeTensor>) => Promise<Record<string, ProbeTensor>>;

/** A deterministic generator, so a probe's verdict is the same on every run. */
function lcg(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** float32 value to IEEE half bits (round to nearest), for float16 probe inputs. */
export function toHalfBits(value: number): number {
  const f = new Float32Array([value]);
  const x = new Uint32Array(f.buffer)[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exponent = ((x >>> 23) & 0xff) - 127 + 15;
  const mantissa = x & 0x7fffff;
  if (exponent <= 0) return sign; // tiny values flush to zero: the probe's values are not tiny
  if (exponent >= 31) return sign | 0x7c00;
  return sign | (exponent << 10) | Math.round(mantissa / 0x2000);
}

export function fromHalfBits(bits: number): number {
  const exponent = (bits >> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  const sign = bits & 0x8000 ? -1 : 1;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 31) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

function fill(dtype: NumericDType, count: number, next: () => number): Exclude<TensorValues, string[]> {
  const data = new (dtypeInfo(dtype).ctor)(count);
  for (let i = 0; i < count; i++) {
    const u = next();
    if (dtype === 'float32' || dtype === 'float64') (data as Float32Array)[i] = u * 4 - 2;
    else if (dtype === 'float16') (data as Uint16Array)[i] = toHalfBits(u * 4 - 2);
    else if (dtype === 'bool') (data as Uint8Array)[i] = u < 0.5 ? 0 : 1;
    else if (dtype === 'int64' || dtype === 'uint64') (data as BigInt64Array)[i] = BigInt(Math.floor(u * 4));
    else (data as Int32Array)[i] = Math.floor(u * 4); // small, so an index input has a chance to be in range
  }
  return data;
}

/** `rows` rows of varied values for every input (dim 0 = rows, the other dims as declared). */
export function probeInputs(inputs: readonly TensorSpec[], rows: number, seed = 7): Record<string, ProbeTensor> {
  const next = lcg(seed);
  const feeds: Record<string, ProbeTensor> = {};
  for (const spec of inputs) {
    if (!isNumericDType(spec.dtype)) throw new Error(`probe: input "${spec.name}" holds strings`); // batchObstacle excludes them
    const dims = [rows, ...spec.shape.slice(1).map((d) => (typeof d === 'number' ? d : PROBE_INNER_SIZE))];
    feeds[spec.name] = {
      dtype: spec.dtype,
      dims,
      data: fill(
        spec.dtype,
        dims.reduce((a, b) => a * b, 1),
        next,
      ),
    };
  }
  return feeds;
}

function rowSlice(tensor: ProbeTensor, row: number): ProbeTensor {
  const perRow = tensor.dims.slice(1).reduce((a, b) => a * b, 1);
  return {
    dtype: tensor.dtype,
    dims: [1, ...tensor.dims.slice(1)],
    data: tensor.data.slice(row * perRow, (row + 1) * perRow),
  };
}

function asNumber(dtype: DType, value: unknown): number {
  if (dtype === 'float16') return fromHalfBits(value as number);
  return typeof value === 'bigint' ? Number(value) : (value as number);
}

interface Comparison {
  maxAbsDiff: number;
  exact: boolean;
  difference: string | null;
}

/** Row `row` of `together` against `alone` (the same row run by itself). */
function compareRow(name: string, together: ProbeTensor, alone: ProbeTensor, row: number, rows: number, into: Comparison): boolean {
  const inner = together.dims.slice(1).join(',');
  if (together.dims[0] !== rows || alone.dims[0] !== 1 || inner !== alone.dims.slice(1).join(',')) {
    into.difference = `output "${name}" has shape [${together.dims.join(', ')}] for ${rows} rows but [${alone.dims.join(', ')}] for one`;
    into.maxAbsDiff = Infinity;
    into.exact = false;
    return false;
  }
  const expected = alone.data;
  const got = rowSlice(together, row).data;
  const floating = together.dtype === 'float32' || together.dtype === 'float64' || together.dtype === 'float16';
  for (let i = 0; i < expected.length; i++) {
    if (got[i] === expected[i]) continue;
    into.exact = false;
    if (!floating) {
      into.maxAbsDiff = Infinity;
      into.difference = `output "${name}" row ${row} element ${i} is ${String(got[i])} with ${rows} rows, ${String(expected[i])} alone`;
      return false;
    }
    const a = asNumber(together.dtype, got[i]);
    const b = asNumber(together.dtype, expected[i]);
    if (Number.isNaN(a) && Number.isNaN(b)) continue;
    const diff = Math.abs(a - b);
    into.maxAbsDiff = Math.max(into.maxAbsDiff, Number.isNaN(diff) ? Infinity : diff);
    if (!(diff <= PROBE_TOLERANCE.absolute + PROBE_TOLERANCE.relative * Math.abs(b))) {
      into.difference = `output "${name}" row ${row} element ${i} is ${a} with ${rows} rows, ${b} alone (differs by ${diff.toExponential(2)})`;
      return false;
    }
  }
  return true;
}

/** The comparison as evidence: a difference too large to measure is null (it must survive JSON). */
function measured(c: Comparison): Pick<ProbeEvidence, 'maxAbsDiff' | 'exact' | 'difference'> {
  return { maxAbsDiff: Number.isFinite(c.maxAbsDiff) ? c.maxAbsDiff : null, exact: c.exact, difference: c.difference };
}

/** Run the probe: `PROBE_ROWS` rows together, then each alone, and compare. A run that throws is evidence too. */
export async function probeBatching(signature: ModelSignature, run: ProbeRun, rows = PROBE_ROWS): Promise<ProbeEvidence> {
  const base = { rows, tolerance: PROBE_TOLERANCE };
  const feeds = probeInputs(signature.inputs, rows);
  let together: Record<string, ProbeTensor>;
  const alone: Record<string, ProbeTensor>[] = [];
  try {
    together = await run(feeds);
    for (let r = 0; r < rows; r++) {
      const single: Record<string, ProbeTensor> = {};
      for (const [name, tensor] of Object.entries(feeds)) single[name] = rowSlice(tensor, r);
      alone.push(await run(single));
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return { ...base, rowsIndependent: false, exact: false, maxAbsDiff: null, difference: null, error: message.slice(0, 300) };
  }
  const comparison: Comparison = { maxAbsDiff: 0, exact: true, difference: null };
  for (const spec of signature.outputs) {
    for (let r = 0; r < rows; r++) {
      const t = together[spec.name];
      const a = alone[r]![spec.name];
      if (!t || !a)
        return { ...base, rowsIndependent: false, exact: false, maxAbsDiff: null, difference: `no output "${spec.name}"`, error: null };
      if (!compareRow(spec.name, t, a, r, rows, comparison))
        return { ...base, rowsIndependent: false, ...measured(comparison), error: null };
    }
  }
  return { ...base, rowsIndependent: true, ...measured(comparison), error: null };
}
