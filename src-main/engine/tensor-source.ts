/**
 * Tensors that live outside the engine (a client's shared-memory region) and are copied
 * once, straight to where the engine needs them, rather than into an array of their own
 * first and from there into the batch.
 *
 * An input given as a TensorSource is copied into its batch's arena slot when the batch
 * is assembled (a row plan), or into a new array for a run by transfer. Its values are
 * read at that moment, not at validation: with `checkFinite` on, the engine must see the
 * values before it accepts the request, so it copies them into an array first.
 *
 * An output given an OutputSink is handed to it once, as a view of the batch's outputs
 * valid only during the call, instead of being copied into the result; the result then
 * carries the output's dims and dtype and an empty array.
 */
import { dtypeInfo, type NumericDType, type TensorData, type TensorValues } from './dtypes.js';

export abstract class TensorSource {
  abstract readonly dtype: NumericDType;
  /** Elements. */
  abstract readonly length: number;

  /**
   * Copy the values into `target` (exactly `length` elements of `dtype`). Called as a batch
   * is assembled, so it must not throw: a source that can no longer be read (its request was
   * answered meanwhile) fills zeros, rows no one will read.
   */
  abstract copyTo(target: TensorData): void;

  /** The values in a new array of their own. */
  materialize(): TensorData {
    const values = new (dtypeInfo(this.dtype).ctor)(this.length);
    this.copyTo(values);
    return values;
  }
}

/** An input's values as a caller may give them: in an array, or in a source the engine copies from once. */
export type InputValues = TensorValues | TensorSource;

/** Takes one output's rows of one request; must not throw (it runs while a batch is answered). */
export type OutputSink = (view: TensorData) => void;
