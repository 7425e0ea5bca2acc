/**
 * Batch assembly, kept pure so it is tested without threads: which queued requests go
 * into the next batch, copying their inputs into an arena slot one after another, and
 * slicing each one's rows back out of the slot's outputs.
 */
import type { TensorData, TensorValues } from './dtypes.js';
import type { PlannedTensor } from './signature.js';

export interface Batchable {
  readonly version: number;
  readonly rows: number;
  readonly data: readonly TensorValues[];
  readonly settled: boolean;
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

/** Copy `source` into `target` at `offset` elements. The plan makes both the same dtype. */
function copyInto(target: TensorData, source: TensorValues, offset: number): void {
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
    for (let o = 0; o < specs.length; o++) {
      const spec = specs[o]!;
      tensors[spec.name] = {
        data: outputs[o]!.slice(firstRow * spec.rowElements, rowOffset * spec.rowElements),
        dims: [request.rows, ...spec.rowShape],
        dtype: spec.dtype,
      };
    }
    deliver(request, tensors);
  }
}
