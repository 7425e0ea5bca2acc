/**
 * How actor threads get actions from the engine without a postMessage per step: one
 * SharedArrayBuffer with a slot per environment (observation in, action and policy
 * version out) and a state word per slot. An actor writes its observation, marks the
 * slot requested, rings a shared doorbell and blocks on the slot (Atomics.wait); the
 * engine's thread wakes on the doorbell (Atomics.waitAsync), runs inference, writes the
 * answer and wakes that actor (Atomics.notify).
 */
const IDLE = 0;
const REQUESTED = 1;
const ANSWERED = 2;
const TAKEN = 3;
const DOORBELL = 0;
const STOP = 1;
const HEADER = 2;

export interface ChannelDescriptor {
  readonly sab: SharedArrayBuffer;
  readonly slots: number;
  readonly obsSize: number;
}

export class ActionChannel {
  private readonly header: Int32Array;
  private readonly states: Int32Array;
  private readonly actions: Int32Array;
  private readonly versions: Int32Array;
  private readonly observations: Float32Array;

  private constructor(readonly descriptor: ChannelDescriptor) {
    const { sab, slots, obsSize } = descriptor;
    this.header = new Int32Array(sab, 0, HEADER);
    this.states = new Int32Array(sab, HEADER * 4, slots);
    this.actions = new Int32Array(sab, (HEADER + slots) * 4, slots);
    this.versions = new Int32Array(sab, (HEADER + 2 * slots) * 4, slots);
    this.observations = new Float32Array(sab, (HEADER + 3 * slots) * 4, slots * obsSize);
  }

  static create(slots: number, obsSize: number): ActionChannel {
    return new ActionChannel({ sab: new SharedArrayBuffer((HEADER + 3 * slots + slots * obsSize) * 4), slots, obsSize });
  }

  static attach(descriptor: ChannelDescriptor): ActionChannel {
    return new ActionChannel(descriptor);
  }

  get stopped(): boolean {
    return Atomics.load(this.header, STOP) === 1;
  }

  /** Ask every blocked actor to give up (shutdown). */
  stop(): void {
    Atomics.store(this.header, STOP, 1);
    for (let slot = 0; slot < this.descriptor.slots; slot++) Atomics.notify(this.states, slot);
    Atomics.notify(this.header, DOORBELL);
  }

  // ---- actor side (worker threads; blocking is allowed there) ----

  /** Post an observation for `slot` (does not wait). */
  post(slot: number, observation: Float32Array): void {
    this.observations.set(observation, slot * this.descriptor.obsSize);
    Atomics.store(this.states, slot, REQUESTED);
  }

  ring(): void {
    Atomics.add(this.header, DOORBELL, 1);
    Atomics.notify(this.header, DOORBELL);
  }

  /** Block until the slot is answered; returns false when the channel is stopping. */
  await(slot: number, out: { action: number; version: number }): boolean {
    for (let state = Atomics.load(this.states, slot); state !== ANSWERED; state = Atomics.load(this.states, slot)) {
      if (this.stopped) return false;
      Atomics.wait(this.states, slot, state, 100); // sleeps until the word changes (or 100 ms, to see a stop)
    }
    out.action = this.actions[slot]!;
    out.version = this.versions[slot]!;
    Atomics.store(this.states, slot, IDLE);
    return true;
  }

  // ---- engine side (main thread; never blocks) ----

  /** Resolves when the doorbell has rung since `seen` (or after `timeoutMs`). */
  async waitForRequests(seen: number, timeoutMs: number): Promise<void> {
    const result = Atomics.waitAsync(this.header, DOORBELL, seen, timeoutMs);
    if (result.async) await result.value;
  }

  get doorbell(): number {
    return Atomics.load(this.header, DOORBELL);
  }

  /**
   * Slots with a request waiting, each marked taken (so a later scan does not take it again
   * before it is answered). A plain load first: most slots are not requested, and a failed
   * compare-exchange costs as much as a successful one.
   */
  takeRequested(): number[] {
    const slots: number[] = [];
    for (let slot = 0; slot < this.descriptor.slots; slot++) {
      if (Atomics.load(this.states, slot) !== REQUESTED) continue;
      if (Atomics.compareExchange(this.states, slot, REQUESTED, TAKEN) === REQUESTED) slots.push(slot);
    }
    return slots;
  }

  observation(slot: number): Float32Array {
    const n = this.descriptor.obsSize;
    return this.observations.subarray(slot * n, slot * n + n);
  }

  answer(slot: number, action: number, version: number): void {
    this.actions[slot] = action;
    this.versions[slot] = version;
    Atomics.store(this.states, slot, ANSWERED);
    Atomics.notify(this.states, slot);
  }
}
