/**
 * Both transports hand telemetry to the store only after a cheap shape check (wire.ts): a
 * malformed snapshot or event is dropped, and reported once per kind on the console, so
 * a page never renders half a message and a bad one cannot throw inside React.
 */
import { isDashboardSnapshot, isEngineEvent } from '../../../src-preload/wire.js';
import type { TransportHandlers } from './types.js';

export class CheckedTelemetry {
  /** Messages dropped, by kind. */
  readonly dropped = { snapshot: 0, event: 0, message: 0 };

  constructor(private readonly handlers: () => TransportHandlers | undefined) {}

  snapshot(raw: unknown): void {
    if (isDashboardSnapshot(raw)) this.handlers()?.snapshot(raw);
    else this.drop('snapshot');
  }

  event(raw: unknown): void {
    if (isEngineEvent(raw)) this.handlers()?.event(raw);
    else this.drop('event');
  }

  /** A message that is not one of the kinds a server sends at all. */
  unknownMessage(): void {
    this.drop('message');
  }

  private drop(kind: keyof CheckedTelemetry['dropped']): void {
    if (this.dropped[kind]++ === 0) console.warn(`switchboard: dropped a malformed ${kind} from the engine (reported once)`);
  }
}
