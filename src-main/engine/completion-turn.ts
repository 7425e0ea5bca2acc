/**
 * Batch completions are handled once per turn of the event loop, not as each message
 * arrives. Node drains up to 1000 messages from a port in one callback, and handling a
 * completion wakes callers who send the next requests, which a fast model answers before
 * the drain ends: handled at once, completions could hold the loop for tens of
 * milliseconds (measured on the small model: loop delay p99 32-41 ms, 2-3 ms deferred
 * to a setImmediate).
 */
export class CompletionTurn<C> {
  private readonly pending: C[] = [];
  private turn: NodeJS.Immediate | undefined;

  constructor(private readonly handle: (completion: C) => void) {}

  push(completion: C): void {
    this.pending.push(completion);
    this.turn ??= setImmediate(() => this.flush());
  }

  /** Handle what has arrived now (a lost worker's finished batches are answered before its loss is). */
  flush(): void {
    if (this.turn) clearImmediate(this.turn);
    this.turn = undefined;
    for (const completion of this.pending.splice(0)) this.handle(completion);
  }
}
