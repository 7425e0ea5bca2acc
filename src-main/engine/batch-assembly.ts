/**
 * Batch assembly, kept pure so it is tested without threads: which queued requests go
 * into the next batch, copying their inputs into an arena slot one after another, and
 * slicing each one's rows back out of the slot's outputs.
 */
import { type DType, type NumericDType, type TensorData, type TensorValues } from './dtypes.js';
import type { PlannedTensor } from './signature.js';
import { TensorSource, type InputValues, type OutputSink } from './tensor-source.js';
import type { RunTensor, SlotPacker } from './byte-arena.js';
import type { WireTensor } from './worker/protocol.js';

export interface Batchable {
  readonly version: number;
  readonly rows: number;
  readonly data: readonly InputValues[];
  readonly settled: boolean;
  readonly options?: { readonly outputSinks?: Readonly<Record<string, OutputSink>> };
}

/** What gathering needs of the queue: its head, and taking the head. */
export interface QueueHead<R> {
  peek(): R | undefined;
  shift(): R | undefined;
}

/**
 * Requests from the head of the queue for one version, up to `targetRows` (the first one
 * always, even if larger): a batch runs one version, and the queue stays first-in first-out.
 */
export function gatherBatch<R extends Batchable>(
  queue: QueueHead<R>,
  version: number,
  targetRows: number,
): { requests: R[]; rows: number } {
  const requests: R[] = [];
  let rows = 0;
  for (let next = queue.peek(); next; next = queue.peek()) {
    if (next.version !== version || (requests.length > 0 && rows + next.rows > targetRows)) break;
    queue.shift();
    requests.push(next);
    rows += next.rows;
  }
  return { requests, rows };
}

export interface GroupedBatchable extends Batchable {
  readonly group?: string;
  readonly dims?: readonly (readonly number[])[];
}

/** What gathering a group needs of the queue: its live items in order, and taking one from anywhere. */
export interface QueueScan<R> {
  live(limit: number): Iterable<R>;
  extract(item: R): boolean;
}

/**
 * The oldest request and, after it, the oldest of its version and group (its shape past
 * dim 0), up to `targetRows`: first-in first-out within a group, and no group starves,
 * because every batch starts with the oldest request of all. Looks at most `scanLimit`
 * requests deep.
 */
export function gatherGroup<R extends GroupedBatchable>(
  queue: QueueScan<R>,
  targetRows: number,
  scanLimit: number,
): { requests: R[]; rows: number } {
  const requests: R[] = [];
  let rows = 0;
  let first: R | undefined;
  for (const next of queue.live(scanLimit)) {
    if (first === undefined) first = next;
    else if (next.version !== first.version || next.group !== first.group || rows + next.rows > targetRows) continue;
    requests.push(next);
    rows += next.rows;
    if (rows >= targetRows) break;
  }
  for (const request of requests) queue.extract(request);
  return { requests, rows };
}

/**
 * Each input of a grouped batch: its requests' tensors one after another along dim 0, packed
 * into the run's slot (or new memory to transfer). The callers' arrays stay theirs, for a
 * retry after a worker loss.
 */
export function concatInputs(
  specs: readonly { readonly name: string; readonly dtype: DType }[],
  requests: readonly GroupedBatchable[],
  rows: number,
  packer: SlotPacker,
): RunTensor[] {
  return specs.map((spec, i) => {
    const innerDims = requests[0]!.dims![i]!.slice(1);
    const rowElements = innerDims.reduce((a, b) => a * b, 1);
    // A grouped plan is numeric: strings have no rows to concatenate (signature.ts).
    return packer.pack(spec.name, spec.dtype as NumericDType, [rows, ...innerDims], rows * rowElements, (target) => {
      let offset = 0;
      for (const request of requests) {
        const part = request.data[i]!;
        copyInto(target, part, offset);
        offset += part.length;
      }
    });
  });
}

/**
 * A direct plan's request as its run's tensors: numeric ones packed into the slot (or new
 * memory to transfer), strings as they are (a message clones them). The caller's arrays
 * stay the caller's, for a retry after a worker loss.
 */
export function packRequest(
  specs: readonly { readonly name: string; readonly dtype: DType }[],
  request: Batchable & { readonly dims?: readonly (readonly number[])[] },
  packer: SlotPacker,
): RunTensor[] {
  return specs.map((spec, i) => {
    const data = request.data[i]!;
    const dims = request.dims![i]!;
    if (Array.isArray(data)) return { name: spec.name, dtype: spec.dtype, dims, data };
    // validate.ts made a numeric array's dtype the spec's.
    return packer.pack(spec.name, spec.dtype as NumericDType, dims, data.length, (target) => copyInto(target, data, 0));
  });
}

/** Copy `source` into `target` at `offset` elements. The plan makes both the same dtype. */
function copyInto(target: TensorData, source: InputValues, offset: number): void {
  if (source instanceof TensorSource) return source.copyTo(target.subarray(offset, offset + source.length));
  if (Array.isArray(source)) throw new TypeError('strings never go into an arena (a row plan is numeric)');
  // A TypedArray's set takes any array of its own element kind; the union type cannot say both sides match.
  (target as unknown as { set(source: TensorValues, offset: number): void }).set(source, offset);
}

/** Each input's data of every request, one after another, into the slot's views of that input. */
export function copyInputs(views: readonly TensorData[], requests: readonly Batchable[]): void {
  for (let i = 0; i < views.length; i++) {
    const view = views[i]!;
    let offset = 0;
    for (const request of requests) {
      const data = request.data[i]!;
      copyInto(view, data, offset);
      offset += data.length;
    }
  }
}

export interface SlicedOutput {
  readonly data: TensorData;
  readonly dims: number[];
  readonly dtype: PlannedTensor['dtype'];
}

/**
 * Each request's rows of every output, in batch order. A request that settled while its
 * batch ran (timed out, aborted) is skipped, but its rows still count: the requests after
 * it get their own rows, not its.
 */
export function scatterOutputs<R extends Batchable>(
  outputs: readonly TensorData[],
  specs: readonly PlannedTensor[],
  requests: readonly R[],
  deliver: (request: R, tensors: Record<string, SlicedOutput>) => void,
): void {
  let rowOffset = 0;
  for (const request of requests) {
    const firstRow = rowOffset;
    rowOffset += request.rows;
    if (request.settled) continue;
    const tensors: Record<string, SlicedOutput> = {};
    const sinks = request.options?.outputSinks;
    for (let o = 0; o < specs.length; o++) {
      const spec = specs[o]!;
      const [from, to] = [firstRow * spec.rowElements, rowOffset * spec.rowElements];
      tensors[spec.name] = {
        data: sinkOrCopy(sinks?.[spec.name], outputs[o]!, from, to),
        dims: [request.rows, ...spec.rowShape],
        dtype: spec.dtype,
      };
    }
    deliver(request, tensors);
  }
}

/** A request's rows of an output: handed to its sink as a view (the result then holds none), or copied out of the batch. */
function sinkOrCopy(sink: OutputSink | undefined, output: TensorData, from: number, to: number): TensorData {
  if (!sink) return output.slice(from, to);
  sink(output.subarray(from, to));
  return output.subarray(0, 0);
}

/**
 * A grouped batch's outputs, each split along dim 0 only: every output must lead with the
 * batch's rows (the probe checked that it does); a message says which does not.
 */
export function groupedOutputs(outputs: readonly WireTensor[], rows: number): { specs: PlannedTensor[]; data: TensorData[] } | string {
  const specs: PlannedTensor[] = [];
  const data: TensorData[] = [];
  for (const t of outputs) {
    if (Array.isArray(t.data)) return `output "${t.name}" holds strings, which a batched plan cannot split`;
    if (t.dims[0] !== rows) return `output "${t.name}" has dim 0 of ${String(t.dims[0])} for a batch of ${rows} rows`;
    const rowShape = t.dims.slice(1);
    specs.push({ name: t.name, dtype: t.dtype as NumericDType, rowShape, rowElements: rowShape.reduce((a, b) => a * b, 1) });
    data.push(t.data);
  }
  return { specs, data };
}
