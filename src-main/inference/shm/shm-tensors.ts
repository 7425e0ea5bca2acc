/**
 * A request's tensors in shared memory, moved with one copy each way. A numeric input
 * becomes a TensorSource: the engine reads it from the region straight into the batch's
 * arena slot (or into the array a run by transfer takes). A numeric output gets a sink:
 * the engine hands it the request's rows of the batch's output, and they are written into
 * the region from there. BYTES tensors have no fixed size, so they are read and written
 * whole. Sizes are checked against the shape before a byte moves; a failure met while the
 * engine copies is kept and reported as the request's error, never thrown into a batch.
 */
import { dtypeInfo, isNumericDType, type NumericDType, type TensorData } from '../../engine/dtypes.js';
import type { DType, OutputSink, TensorValues } from '../../engine/index.js';
import { TensorSource } from '../../engine/tensor-source.js';
import { dtypeOf, type ProtocolDatatype } from '../datatypes.js';
import { ProtocolError } from '../protocol-error.js';
import { binaryDataOf, decodeBinaryData } from '../tensor-codec.js';
import type { ShmLease, ShmReference } from './shared-memory-regions.js';

function bytesOf(values: TensorData): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

/** What went wrong while the engine copied, as the request's error. */
function failureOf(error: unknown, where: string): ProtocolError {
  if (error instanceof ProtocolError) return error;
  const code = (error as NodeJS.ErrnoException).code ?? 'error';
  return new ProtocolError('failed', `${where}: the shared-memory region could not be read or written (${code})`, undefined, {
    cause: error,
  });
}

/** An input's values in a region, read once, when and where the engine copies them. */
class RegionInput extends TensorSource {
  failure: ProtocolError | undefined;

  constructor(
    private readonly lease: ShmLease,
    private readonly ref: ShmReference,
    readonly dtype: NumericDType,
    readonly length: number,
    private readonly where: string,
  ) {
    super();
  }

  copyTo(target: TensorData): void {
    if (this.lease.isReleased) {
      target.fill(0 as never); // answered already (timed out, cancelled): rows no one reads, and the descriptor may be closed
      return;
    }
    try {
      this.lease.readInto(this.ref, bytesOf(target), this.where);
    } catch (error) {
      this.failure = failureOf(error, this.where);
      target.fill(0 as never); // the request is refused below with the failure; its rows are never answered
    }
  }
}

/** The shared-memory side of one request: its inputs' sources and its outputs' sinks, and what went wrong in either. */
export class ShmTensors {
  private readonly sources: RegionInput[] = [];
  private readonly written = new Set<string>();
  private readonly failures: ProtocolError[] = [];
  readonly sinks: Record<string, OutputSink> = {};

  constructor(private readonly lease: ShmLease) {}

  /** An input's values: a source the engine reads once (numeric), or BYTES elements read and decoded now. */
  input(ref: ShmReference, name: string, datatype: ProtocolDatatype, shape: readonly number[]): TensorValues | TensorSource {
    const where = `tensor "${name}"`;
    const count = shape.reduce((a, b) => a * b, 1);
    const dtype = dtypeOf(datatype);
    if (!isNumericDType(dtype)) {
      const bytes = new Uint8Array(ref.byteSize);
      this.lease.readInto(ref, bytes, where);
      return decodeBinaryData(name, datatype, count, bytes);
    }
    const expected = count * dtypeInfo(dtype).bytes;
    if (ref.byteSize !== expected)
      throw new ProtocolError(
        'invalid',
        `${where}: shared_memory_byte_size is ${ref.byteSize}; ${count} ${datatype} elements are ${expected} bytes`,
      );
    const source = new RegionInput(this.lease, ref, dtype, count, where);
    this.sources.push(source);
    return source;
  }

  /** Have the engine hand `name`'s rows to the region instead of the result. */
  output(ref: ShmReference, name: string): void {
    const where = `output "${name}"`;
    this.sinks[name] = (view) => {
      try {
        this.lease.write(ref, bytesOf(view), where);
        this.written.add(name);
      } catch (error) {
        this.failures.push(failureOf(error, where)); // a sink must not throw into the batch: reported by `check`
      }
    };
  }

  /** The first failure met while the engine copied, thrown as the request's error. */
  check(): void {
    const failure = this.sources.find((s) => s.failure)?.failure ?? this.failures[0];
    if (failure) throw failure;
  }

  /** An output the engine did not hand to its sink (strings have no view to hand): written from the result. */
  writeRemaining(ref: ShmReference, name: string, dtype: DType, data: TensorValues): void {
    if (!this.written.has(name)) this.lease.write(ref, binaryDataOf(dtype, data), `output "${name}"`);
  }
}
