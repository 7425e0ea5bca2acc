/**
 * The engine's event log: swaps, restarts, crashes, rejections, validation failures.
 * Bounded (a ring), so a storm of rejections cannot grow memory; repeated rejections
 * are counted in statistics and only sampled here.
 */
export type EventLevel = 'info' | 'warn' | 'error';

export type EventKind =
  | 'model-loaded'
  | 'model-unloaded'
  | 'model-swapped'
  | 'batching-decided'
  | 'batching-changed'
  | 'swap-failed'
  | 'worker-ready'
  | 'worker-crashed'
  | 'worker-hung'
  | 'worker-restarting'
  | 'worker-retired'
  | 'queue-paused'
  | 'queue-resumed'
  | 'queue-reconfigured'
  | 'request-rejected'
  | 'batch-failed'
  | 'updater-ready'
  | 'updater-degraded'
  | 'updater-restarting'
  | 'updater-invalid-message'
  | 'updater-log'
  | 'version-added'
  | 'version-validated'
  | 'version-invalid'
  | 'config-invalid'
  | 'version-rejected'
  | 'engine-stopping'
  | 'engine-stopped'
  | 'experience'
  | 'actor-restarted'
  | 'learner';

export interface EngineEvent {
  readonly seq: number;
  readonly timeMs: number;
  readonly level: EventLevel;
  readonly kind: EventKind;
  readonly model?: string;
  readonly worker?: string;
  readonly message: string;
}

export type EventListener = (event: EngineEvent) => void;

export class EventLog {
  private readonly ring: EngineEvent[] = [];
  private seq = 0;
  private readonly listeners = new Set<EventListener>();

  constructor(private readonly capacity = 1000) {}

  emit(level: EventLevel, kind: EventKind, message: string, where: { model?: string; worker?: string } = {}): EngineEvent {
    const event: EngineEvent = { seq: ++this.seq, timeMs: Date.now(), level, kind, message, ...where };
    if (this.ring.length >= this.capacity) this.ring.shift();
    this.ring.push(event);
    for (const listener of this.listeners) listener(event);
    return event;
  }

  /** Events after `afterSeq`, oldest first. */
  since(afterSeq = 0): EngineEvent[] {
    return this.ring.filter((e) => e.seq > afterSeq);
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
