/**
 * The experience buffer's storage: fixed capacity, one typed array per field, all in
 * one SharedArrayBuffer so actor threads write transitions directly. Writers reserve a
 * slot with Atomics.add on a shared counter (no lock on the hot path) and publish it
 * through a per-slot sequence word (odd while written, 2 x generation when done): a
 * reader that sees the word change, or odd, while copying discards the copy, so a
 * sample never holds a half-written item.
 */
export type FieldDType = 'float32' | 'float64' | 'int32' | 'uint8';

export interface FieldSpec {
  readonly name: string;
  readonly dtype: FieldDType;
  /** Shape of one item's value; [] for a scalar. */
  readonly shape: readonly number[];
}

export type Column = Float32Array | Float64Array | Int32Array | Uint8Array;

type ColumnCtor = {
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): Column;
  new (length: number): Column;
  readonly BYTES_PER_ELEMENT: number;
};
const COLUMN_TYPES: Record<FieldDType, ColumnCtor> = {
  float32: Float32Array,
  float64: Float64Array,
  int32: Int32Array,
  uint8: Uint8Array,
};

function elementsOf(field: FieldSpec): number {
  return field.shape.reduce((a, b) => a * b, 1);
}

/** Bytes one field's column takes in a buffer of `capacity` items (before alignment). */
export function columnBytes(field: FieldSpec, capacity: number): number {
  return elementsOf(field) * capacity * COLUMN_TYPES[field.dtype].BYTES_PER_ELEMENT;
}
const HEADER_WORDS = 8;
const RESERVED = 0; // reservations made (the next item's index)
const COMMITTED = 1; // items fully written
const SKIP_BEFORE = 2; // after a restore: indexes below this are final (a hole is never filled)
const WAITERS = 3; // readers blocked in waitForCommit: writers notify only when there are some
const DROPPED = 4; // writes dropped because a newer item had already taken their slot
const CLEARED_BEFORE = 5; // items with a lower index were cleared: no table takes them in
const INSERT_LIMIT = 6; // writers may reserve indexes below this; a table's rate limiter sets it (actor threads wait on it)
const NO_LIMIT = 0x7fffffff;

export interface BufferDescriptor {
  readonly sab: SharedArrayBuffer;
  readonly capacity: number;
  readonly fields: readonly FieldSpec[];
}

export interface Reservation {
  /** Position in the stream of all items ever inserted. */
  readonly index: number;
  readonly slot: number;
  /** How many times the slot has been written (1 for its first item). */
  readonly generation: number;
}

export function standardFields(obsShape: readonly number[], actionShape: readonly number[] = []): FieldSpec[] {
  return [
    { name: 'obs', dtype: 'float32', shape: obsShape },
    { name: 'action', dtype: 'int32', shape: actionShape },
    { name: 'reward', dtype: 'float32', shape: [] },
    { name: 'done', dtype: 'uint8', shape: [] },
    { name: 'next_obs', dtype: 'float32', shape: obsShape },
    { name: 'policy_version', dtype: 'int32', shape: [] },
  ];
}

export class ExperienceBuffer {
  readonly capacity: number;
  readonly fields: readonly FieldSpec[];
  readonly columns: ReadonlyMap<string, Column>;
  readonly elements: ReadonlyMap<string, number>;
  private readonly header: Int32Array;
  private readonly seq: Int32Array;
  /** Fields in declaration order with their column and width: the insert path avoids map lookups. */
  private readonly layout: { name: string; column: Column; per: number }[];

  private constructor(readonly descriptor: BufferDescriptor) {
    const { sab, capacity, fields } = descriptor;
    this.capacity = capacity;
    this.fields = fields;
    this.header = new Int32Array(sab, 0, HEADER_WORDS);
    this.seq = new Int32Array(sab, HEADER_WORDS * 4, capacity);
    let offset = align8((HEADER_WORDS + capacity) * 4);
    const columns = new Map<string, Column>();
    const elements = new Map<string, number>();
    for (const f of fields) {
      const per = elementsOf(f);
      columns.set(f.name, new COLUMN_TYPES[f.dtype](sab, offset, per * capacity));
      elements.set(f.name, per);
      offset = align8(offset + columnBytes(f, capacity));
    }
    this.columns = columns;
    this.elements = elements;
    this.layout = fields.map((f) => ({ name: f.name, column: columns.get(f.name)!, per: elements.get(f.name)! }));
  }

  static create(capacity: number, fields: readonly FieldSpec[]): ExperienceBuffer {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 2 ** 28)
      throw new RangeError(`capacity must be 1..2^28, got ${capacity}`);
    const names = new Set(fields.map((f) => f.name));
    if (names.size !== fields.length) throw new RangeError('field names must be unique');
    const buffer = new ExperienceBuffer({ sab: new SharedArrayBuffer(ExperienceBuffer.bytesFor(capacity, fields)), capacity, fields });
    buffer.limitInserts(undefined);
    return buffer;
  }

  /** The same buffer in another thread (the descriptor crosses postMessage; the memory is shared). */
  static attach(descriptor: BufferDescriptor): ExperienceBuffer {
    return new ExperienceBuffer(descriptor);
  }

  static bytesFor(capacity: number, fields: readonly FieldSpec[]): number {
    let bytes = align8((HEADER_WORDS + capacity) * 4);
    for (const f of fields) bytes = align8(bytes + columnBytes(f, capacity));
    return bytes;
  }

  get byteLength(): number {
    return this.descriptor.sab.byteLength;
  }

  /** Indexes below this will not be written any more (set in a restored buffer). */
  get skipBefore(): number {
    return Atomics.load(this.header, SKIP_BEFORE);
  }

  /** Items with a lower index were cleared (see clear()). */
  get clearedBefore(): number {
    return Atomics.load(this.header, CLEARED_BEFORE);
  }

  /**
   * Forget every item inserted so far, without stopping writers: the items stay in
   * memory until overwritten, but no table takes them in again, and a checkpoint taken
   * afterwards restores none of them.
   */
  clear(): void {
    Atomics.store(this.header, CLEARED_BEFORE, Atomics.load(this.header, RESERVED));
  }

  /**
   * A table's rate limiter allows inserts up to (not including) stream index `limit`
   * (undefined: no limit); wakes writers waiting in awaitInsertPermit when it rises.
   * Writers check it before reserving, so they overshoot by at most one item each.
   */
  limitInserts(limit: number | undefined): void {
    const value = limit === undefined ? NO_LIMIT : Math.min(NO_LIMIT, Math.max(0, Math.floor(limit)));
    if (Atomics.exchange(this.header, INSERT_LIMIT, value) < value) Atomics.notify(this.header, INSERT_LIMIT);
  }

  /** Whether the next insert would go past the limit a table's rate limiter set. */
  get insertsHeld(): boolean {
    return Atomics.load(this.header, RESERVED) >= Atomics.load(this.header, INSERT_LIMIT);
  }

  /**
   * For writer threads (it blocks the calling thread; never call it on the main thread):
   * wait while inserts are held, up to `timeoutMs`. Returns the milliseconds waited, or
   * -1 on a timeout (inserts still held).
   */
  awaitInsertPermit(timeoutMs: number): number {
    const started = performance.now();
    for (;;) {
      const limit = Atomics.load(this.header, INSERT_LIMIT);
      if (Atomics.load(this.header, RESERVED) < limit) return performance.now() - started;
      const remaining = timeoutMs - (performance.now() - started);
      if (remaining <= 0) return -1;
      Atomics.wait(this.header, INSERT_LIMIT, limit, remaining);
    }
  }

  /** Index of the oldest item a new reader should start from. */
  firstLiveIndex(): number {
    return Math.max(0, Atomics.load(this.header, RESERVED) - this.capacity, this.clearedBefore);
  }

  /** Items ever reserved, committed, and dropped (lapped before they were written); they grow without bound. */
  counts(): { reserved: number; committed: number; dropped: number } {
    return {
      reserved: Atomics.load(this.header, RESERVED),
      committed: Atomics.load(this.header, COMMITTED),
      dropped: Atomics.load(this.header, DROPPED),
    };
  }

  /**
   * Write one item. Safe from any number of threads at once; overwrites the oldest item
   * once the buffer is full (FIFO removal). Values are copied.
   */
  insert(values: Readonly<Record<string, ArrayLike<number> | number>>): Reservation {
    // Check everything before reserving: a reserved slot must always be published.
    for (const { name, per } of this.layout) {
      const value = values[name];
      if (value === undefined) throw new RangeError(`missing field "${name}"`);
      const length = typeof value === 'number' ? 1 : value.length;
      if (length !== per) throw new RangeError(`field "${name}" needs ${per} values, got ${length}`);
    }
    const index = Atomics.add(this.header, RESERVED, 1);
    const slot = index % this.capacity;
    const generation = Math.floor(index / this.capacity) + 1;
    const writing = 2 * generation - 1;
    // Own the slot: wait out a writer of an older generation still in it (only possible
    // when more writers are in flight than the buffer has slots).
    for (;;) {
      const current = Atomics.load(this.seq, slot);
      if (current % 2 === 0) {
        if (current >= 2 * generation) {
          // A newer item already took the slot: this older one would have been evicted anyway.
          Atomics.add(this.header, DROPPED, 1);
          return { index, slot, generation: -1 };
        }
        if (Atomics.compareExchange(this.seq, slot, current, writing) === current) break;
      } else {
        Atomics.wait(this.seq, slot, current, 1);
      }
    }
    for (const { name, column, per } of this.layout) {
      const value = values[name]!;
      if (typeof value === 'number') column[slot] = value;
      else column.set(value, slot * per);
    }
    Atomics.store(this.seq, slot, 2 * generation);
    Atomics.add(this.header, COMMITTED, 1);
    if (Atomics.load(this.header, WAITERS) > 0) Atomics.notify(this.header, COMMITTED);
    return { index, slot, generation };
  }

  /**
   * A consistent copy of the whole buffer without pausing writers: sequence words, then
   * data, then the sequence words again; a slot that changed in between is marked
   * unwritten in the copy (it was being written, so it is not a complete item yet).
   */
  snapshotBytes(): Uint8Array {
    const sab = this.descriptor.sab;
    const copy = new Uint8Array(sab.byteLength);
    const seqBefore = Int32Array.from(this.seq);
    copy.set(new Uint8Array(sab));
    const seqCopy = new Int32Array(copy.buffer, HEADER_WORDS * 4, this.capacity);
    for (let slot = 0; slot < this.capacity; slot++) {
      const after = Atomics.load(this.seq, slot);
      if (after !== seqBefore[slot] || after % 2 === 1) seqCopy[slot] = 0;
      else seqCopy[slot] = after;
    }
    // Items reserved before the copy and not complete in it will never complete in the
    // restored buffer: its readers skip those holes instead of waiting for them.
    const header = new Int32Array(copy.buffer, 0, HEADER_WORDS);
    header[SKIP_BEFORE] = header[RESERVED]!;
    header[INSERT_LIMIT] = NO_LIMIT; // the restoring process's tables decide afresh
    header[WAITERS] = 0;
    return copy;
  }

  /** A buffer holding a copy made by snapshotBytes (a checkpoint being restored). */
  static fromSnapshot(capacity: number, fields: readonly FieldSpec[], bytes: Uint8Array): ExperienceBuffer {
    const expected = ExperienceBuffer.bytesFor(capacity, fields);
    if (bytes.byteLength !== expected) throw new RangeError(`snapshot has ${bytes.byteLength} bytes, the layout needs ${expected}`);
    const sab = new SharedArrayBuffer(expected);
    new Uint8Array(sab).set(bytes);
    return new ExperienceBuffer({ sab, capacity, fields });
  }

  /** Resolves when an item is committed after `seen` commits, or after `timeoutMs` (no polling: Atomics.waitAsync). */
  async waitForCommit(seen: number, timeoutMs: number): Promise<void> {
    Atomics.add(this.header, WAITERS, 1);
    try {
      const result = Atomics.waitAsync(this.header, COMMITTED, seen, timeoutMs);
      if (result.async) await result.value;
    } finally {
      Atomics.sub(this.header, WAITERS, 1);
    }
  }

  /** Wake every waitForCommit (a waiter that no longer needs to wait). */
  wakeCommitWaiters(): void {
    Atomics.notify(this.header, COMMITTED);
  }

  /** The generation committed in a slot (0: never written; -1: being written now). */
  generationAt(slot: number): number {
    const s = Atomics.load(this.seq, slot);
    return s % 2 === 1 ? -1 : s / 2;
  }

  /** Empty columns for `rows` items, one per field in declaration order: what `readInto` fills. */
  newColumns(rows: number): Column[] {
    return this.fields.map((f, i) => new COLUMN_TYPES[f.dtype](rows * this.layout[i]!.per));
  }

  /**
   * Copy one item into row `row` of `targets` (one column per field, in declaration
   * order). Returns false, copying nothing usable, if the slot no longer holds
   * `generation` or changed while copying.
   */
  readInto(slot: number, generation: number, targets: readonly Column[], row: number): boolean {
    if (Atomics.load(this.seq, slot) !== 2 * generation) return false;
    // The sampler's hot loop: walk the precomputed layout, no map lookups per row.
    for (let f = 0; f < this.layout.length; f++) {
      const { column, per } = this.layout[f]!;
      const target = targets[f]!;
      if (per === 1) target[row] = column[slot]!;
      else target.set(column.subarray(slot * per, slot * per + per), row * per);
    }
    return Atomics.load(this.seq, slot) === 2 * generation;
  }
}

function align8(n: number): number {
  return Math.ceil(n / 8) * 8;
}
