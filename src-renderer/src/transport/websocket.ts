/**
 * WebSocket transport for headless mode: token from the page URL, reconnects with
 * capped backoff after the server restarts, and matches command replies by id.
 */
import { SNAPSHOT_TAKEN } from '../../../src-preload/channels.js';
import type { CommandArgs, CommandError, CommandName, CommandReply } from '../../../src-preload/contract.js';
import type { CommandResults } from '../../../src-preload/wire.js';
import { CheckedTelemetry } from './checked-telemetry.js';
import type { Transport, TransportHandlers } from './types.js';

export interface WebSocketTransportOptions {
  readonly url: string;
  /** Grows from minBackoffMs, doubling up to maxBackoffMs, reset on a successful connection. */
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
  readonly commandTimeoutMs?: number;
  /** Injected by tests; the browser's WebSocket otherwise. */
  readonly WebSocketImpl?: typeof WebSocket;
}

interface Pending {
  /** The reply as received; the command's name says what its result is (wire.ts's CommandResults). */
  resolve(reply: CommandReply): void;
  timer: ReturnType<typeof setTimeout>;
}

export class WebSocketTransport implements Transport {
  readonly kind = 'websocket';
  private socket: WebSocket | undefined;
  private handlers: TransportHandlers | undefined;
  private closed = false;
  private backoffMs: number;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly telemetry = new CheckedTelemetry(() => this.handlers);

  constructor(private readonly options: WebSocketTransportOptions) {
    this.backoffMs = options.minBackoffMs ?? 250;
  }

  connect(handlers: TransportHandlers): void {
    this.handlers = handlers;
    this.open();
  }

  /** POST the file to /api/models/{model}/versions, authenticated by the page's cookie like every /api request. */
  async addModel(model: string, file: File | undefined): Promise<CommandReply<'model.add'>> {
    if (!file) return { id: 0, ok: false, error: { code: 'NO_FILE', message: 'drop a model file or choose one first' } };
    let response: Response;
    try {
      response = await fetch(new URL(`/api/models/${encodeURIComponent(model)}/versions`, uploadBase(this.options.url)), {
        method: 'POST',
        body: file,
        headers: { 'Content-Type': 'application/octet-stream' },
        credentials: 'same-origin',
      });
    } catch (error) {
      if (!(error instanceof TypeError)) throw error;
      return { id: 0, ok: false, error: { code: 'DISCONNECTED', message: `the upload did not reach the engine: ${error.message}` } };
    }
    // An answer that is not JSON (a proxy's error page) is reported by its status below.
    const reply = (await response.json().catch(() => null)) as { ok: boolean; result?: unknown; error?: CommandError } | null;
    if (reply?.ok) return { id: 0, ok: true, result: reply.result as CommandResults['model.add'] };
    return { id: 0, ok: false, error: reply?.error ?? { code: `HTTP_${response.status}`, message: response.statusText } };
  }

  command<C extends CommandName>(name: C, args: CommandArgs<C>): Promise<CommandReply<C>> {
    const id = this.nextId++;
    const socket = this.socket;
    if (!socket || socket.readyState !== 1) {
      return Promise.resolve({ id, ok: false, error: { code: 'DISCONNECTED', message: 'not connected to the engine' } });
    }
    return new Promise<CommandReply<C>>((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve({ id, ok: false, error: { code: 'TIMEOUT', message: 'no reply from the engine' } });
      }, this.options.commandTimeoutMs ?? 30_000);
      // The server answers this id with the result of command `name`.
      this.pending.set(id, { resolve: (reply) => resolve(reply as CommandReply<C>), timer });
      socket.send(JSON.stringify({ id, command: name, args }));
    });
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.socket?.close();
  }

  private open(): void {
    const Impl = this.options.WebSocketImpl ?? WebSocket;
    this.handlers?.status('connecting');
    const socket = new Impl(this.options.url);
    this.socket = socket;
    let opened = false;
    socket.onopen = () => {
      opened = true;
      this.backoffMs = this.options.minBackoffMs ?? 250;
      this.handlers?.status('connected');
    };
    socket.onmessage = (e: MessageEvent) => {
      const message = parseServerMessage(e.data);
      if (!message) this.telemetry.unknownMessage();
      else if (message.type === 'snapshot') {
        this.telemetry.snapshot(message.snapshot);
        socket.send(JSON.stringify(SNAPSHOT_TAKEN)); // taken, even if dropped: the server sends the next one only now
      } else if (message.type === 'event') this.telemetry.event(message.event);
      else {
        const pending = this.pending.get(message.reply.id);
        if (pending) {
          clearTimeout(pending.timer);
          this.pending.delete(message.reply.id);
          pending.resolve(message.reply);
        }
      }
    };
    socket.onclose = () => {
      if (this.socket !== socket) return;
      for (const [id, p] of this.pending) {
        clearTimeout(p.timer);
        p.resolve({ id, ok: false, error: { code: 'DISCONNECTED', message: 'connection lost before the reply' } });
      }
      this.pending.clear();
      if (this.closed) return;
      // A refused upgrade never opens: most likely a wrong token, but the server may also be down.
      this.handlers?.status('disconnected', opened ? 'connection lost; reconnecting' : 'cannot connect; retrying');
      this.retryTimer = setTimeout(() => this.open(), this.backoffMs);
      this.backoffMs = Math.min(this.options.maxBackoffMs ?? 5000, this.backoffMs * 2);
    };
  }
}

type RawServerMessage =
  { type: 'snapshot'; snapshot: unknown } | { type: 'event'; event: unknown } | { type: 'reply'; reply: CommandReply };

/** The envelope of a server message, or undefined for anything else (its content is checked by kind). */
function parseServerMessage(data: unknown): RawServerMessage | undefined {
  let message: unknown;
  try {
    message = JSON.parse(String(data));
  } catch (error) {
    if (error instanceof SyntaxError) return undefined;
    throw error;
  }
  if (typeof message !== 'object' || message === null) return undefined;
  const m = message as Record<string, unknown>;
  if (m.type === 'snapshot' && 'snapshot' in m) return { type: 'snapshot', snapshot: m.snapshot };
  if (m.type === 'event' && 'event' in m) return { type: 'event', event: m.event };
  const reply = m.reply as Record<string, unknown> | null | undefined;
  if (m.type === 'reply' && typeof reply === 'object' && reply !== null && typeof reply.id === 'number' && typeof reply.ok === 'boolean')
    return { type: 'reply', reply: reply as unknown as CommandReply };
  return undefined;
}

/** The page's own origin for HTTP, from the WebSocket's URL (ws: to http:, wss: to https:). */
function uploadBase(socketUrl: string): string {
  const url = new URL(socketUrl);
  url.protocol = url.protocol === 'wss:' ? 'https:' : 'http:';
  return url.origin;
}
