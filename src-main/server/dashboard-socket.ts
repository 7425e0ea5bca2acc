/**
 * One dashboard client over the WebSocket: telemetry at its rate (paced by its
 * `snapshot-taken`), events, and commands. Whatever the client sends or fails to read,
 * only this socket is affected:
 * - every socket has an error listener before it can fail, so a protocol error (bad
 *   UTF-8, an unmasked frame, a reserved opcode, an oversized message) closes it with
 *   the close code `ws` chose for it (1002, 1007, 1009) and is counted;
 * - every send respects a bound on the bytes buffered for it: over the bound, snapshots,
 *   events and replies are skipped, and a client that stays over it is closed.
 */
import type { WebSocket } from 'ws';
import { SnapshotTakenSchema, type CommandReply, type ServerMessage } from '../../src-preload/contract.js';
import type { DashboardSnapshot, EngineEvent, SocketCounters } from '../../src-preload/wire.js';

export type { SocketCounters };
import { TelemetryPacer } from '../host/telemetry-pacer.js';

export interface SocketLimits {
  /** Largest message a client may send (commands are small); larger closes the socket with 1009. */
  readonly maxPayloadBytes: number;
  /** Bytes buffered for a client beyond which nothing more is sent to it. */
  readonly maxBufferedBytes: number;
  /** A client over the bound this long is closed (1008), and its buffers freed. */
  readonly slowClientTimeoutMs: number;
}

export const DEFAULT_SOCKET_LIMITS: SocketLimits = {
  maxPayloadBytes: 64 * 1024,
  maxBufferedBytes: 1024 * 1024,
  slowClientTimeoutMs: 5000,
};

/** What the server counts of its sockets: shown in the snapshot, so an operator sees a misbehaving client. */
export function newSocketCounters(): SocketCounters {
  return {
    open: 0,
    accepted: 0,
    refusedUpgrades: 0,
    protocolErrors: 0,
    oversizedMessages: 0,
    skippedSends: 0,
    slowClientsClosed: 0,
    socketErrors: 0,
  };
}

export interface SocketSources {
  readonly snapshot: () => DashboardSnapshot;
  readonly execute: (raw: unknown) => Promise<CommandReply>;
  readonly subscribeEvents: (listener: (event: EngineEvent) => void) => () => void;
}

export function attachDashboardSocket(
  ws: WebSocket,
  hz: number,
  sources: SocketSources,
  counters: SocketCounters,
  limits: SocketLimits = DEFAULT_SOCKET_LIMITS,
): void {
  counters.open++;
  counters.accepted++;
  let overSince: number | undefined;
  let closed = false;

  // ws closes the socket itself, with the code that fits the error (1009 for an oversized message).
  ws.on('error', (error: Error & { code?: string }) => {
    if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') counters.oversizedMessages++;
    else if (error.code?.startsWith('WS_ERR_')) counters.protocolErrors++;
    else counters.socketErrors++;
  });

  /** False when the client is over its bound (nothing is sent). */
  const send = (message: ServerMessage): boolean => {
    if (closed || ws.readyState !== ws.OPEN) return false;
    if (ws.bufferedAmount > limits.maxBufferedBytes) {
      counters.skippedSends++; // how long it has been over is the watch's business
      return false;
    }
    ws.send(JSON.stringify(message));
    return true;
  };

  const telemetry = new TelemetryPacer(hz, () => send({ type: 'snapshot', snapshot: sources.snapshot() }));
  telemetry.ready(); // an open socket is listening
  const unsubscribe = sources.subscribeEvents((event) => void send({ type: 'event', event }));

  // The bound is checked on a clock too: a client may stop reading while nothing is sent to it.
  const watch = setInterval(
    () => {
      if (ws.bufferedAmount <= limits.maxBufferedBytes) {
        overSince = undefined;
        return;
      }
      overSince ??= Date.now();
      if (Date.now() - overSince < limits.slowClientTimeoutMs) return;
      counters.slowClientsClosed++;
      ws.close(1008, 'too slow: the client does not read what it is sent');
      // It does not read, so the close handshake cannot finish: free its buffers now.
      ws.terminate();
    },
    Math.max(50, limits.slowClientTimeoutMs / 5),
  );

  ws.on('message', (data: Buffer) => {
    let raw: unknown;
    try {
      raw = JSON.parse(data.toString('utf8'));
    } catch {
      send({ type: 'reply', reply: { id: -1, ok: false, error: { code: 'INVALID_JSON', message: 'the message is not JSON' } } });
      return;
    }
    if (SnapshotTakenSchema.safeParse(raw).success) {
      telemetry.ready();
      return;
    }
    void sources.execute(raw).then((reply) => send({ type: 'reply', reply }));
  });

  ws.on('close', () => {
    closed = true;
    counters.open--;
    clearInterval(watch);
    telemetry.close();
    unsubscribe();
  });
}
