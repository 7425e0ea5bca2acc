/**
 * The headless front: an HTTP server on loopback that serves the built dashboard, the
 * JSON snapshot and commands, and a WebSocket that pushes telemetry and events and takes
 * commands. Everything but the dashboard's static files needs the token (see TokenAuth);
 * every request must name this server in its Host header (DNS rebinding), and a browser
 * must come from the dashboard's own origin to open the WebSocket or change anything.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { parseCommand } from '../../src-preload/contract.js';
import type { EngineEvent } from '../engine/index.js';
import type { ExportSelection } from '../experience/service.js';
import type { DashboardSnapshot } from '../../src-preload/wire.js';
import type { CommandExecutor } from '../host/command-executor.js';
import { telemetryRate } from '../host/telemetry-pacer.js';
import {
  attachDashboardSocket,
  DEFAULT_SOCKET_LIMITS,
  newSocketCounters,
  type SocketCounters,
  type SocketLimits,
} from './dashboard-socket.js';
import { HttpError, readBody, sendError, sendJson } from './http-basics.js';
import { handleUpload, UPLOAD_PATH, type ModelUploads } from './model-upload.js';
import { listen } from './listen.js';
import { OriginPolicy, urlHost } from './origin-policy.js';
import { StaticFiles } from './static-files.js';
import { TokenAuth } from './token-auth.js';

export interface DashboardServerOptions {
  readonly snapshot: () => DashboardSnapshot;
  /** Runs a raw command message (the server only forwards it and sends back the reply). */
  readonly commands: Pick<CommandExecutor, 'execute'>;
  /** GET /api/experience.npz: the experience buffer as .npz (absent: 404). */
  readonly exportExperience?: (which: ExportSelection) => { bytes: Uint8Array; items: number };
  readonly subscribeEvents: (listener: (event: EngineEvent) => void) => () => void;
  /** POST /api/models/{name}/versions: publish an uploaded model file (absent: 404, no repository). */
  readonly uploads?: ModelUploads;
  /** Folder of the built dashboard (out/renderer). */
  readonly staticDir: string;
  readonly port?: number;
  /** Loopback by default; anything else must be asked for explicitly. */
  readonly bindAddress?: string;
  readonly token?: string;
  /** Default telemetry rate; a client may ask for 1-30 Hz with ?hz=. */
  readonly telemetryHz?: number;
  readonly socketLimits?: SocketLimits;
  /** Where the server's own faults go (never into a response body). */
  readonly log?: (message: string) => void;
}

/** An API path: the one method it takes (another is 405, not 404) and what answers it. */
interface ApiRoute {
  readonly method: 'GET' | 'POST';
  handle(req: IncomingMessage, res: ServerResponse, url: URL): void | Promise<void>;
}

/** What the dashboard server adds to the snapshot it serves: how its clients behave. */
export interface DashboardServerStats {
  sockets: SocketCounters;
  /** HTTP requests refused before any route ran (bad Host, Origin, path or content type). */
  refusedRequests: number;
}

export class DashboardServer {
  private readonly auth: TokenAuth;
  private readonly origins: OriginPolicy;
  private readonly server: Server;
  private readonly sockets: WebSocketServer;
  private readonly files: StaticFiles;
  private readonly counters = newSocketCounters();
  private refusedRequests = 0;
  private readonly bindAddress: string;
  private readonly log: (message: string) => void;
  private portValue = 0;

  constructor(private readonly options: DashboardServerOptions) {
    this.auth = new TokenAuth(options.token);
    this.bindAddress = options.bindAddress ?? '127.0.0.1';
    this.origins = new OriginPolicy(this.bindAddress);
    this.log = options.log ?? ((message) => console.error(message));
    this.files = new StaticFiles(options.staticDir, () => ({ 'Content-Security-Policy': this.contentSecurityPolicy() }));
    this.server = createServer((req, res) => {
      this.route(req, res).catch((error: unknown) => sendError(res, error, this.log));
    });
    this.server.on('error', (error) => this.log(`dashboard server: ${error.message}`));
    // A WebSocket message over this closes that socket with 1009; see DEFAULT_SOCKET_LIMITS.
    const limits = options.socketLimits ?? DEFAULT_SOCKET_LIMITS;
    this.sockets = new WebSocketServer({ noServer: true, maxPayload: limits.maxPayloadBytes });
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head, limits));
  }

  get token(): string {
    return this.auth.token;
  }

  get port(): number {
    return this.portValue;
  }

  /** The address to open: the page trades the token for a cookie and drops it from its URL. */
  get url(): string {
    return `${this.origin}/?token=${this.token}`;
  }

  get origin(): string {
    return `http://${urlHost(this.bindAddress)}:${this.portValue}`;
  }

  stats(): DashboardServerStats {
    return { sockets: { ...this.counters }, refusedRequests: this.refusedRequests };
  }

  async start(): Promise<void> {
    const port = this.options.port ?? 0;
    this.portValue = await listen(this.server, port, this.bindAddress);
    this.origins.listening(this.portValue);
    this.auth.listening(this.portValue);
  }

  async stop(): Promise<void> {
    for (const ws of this.sockets.clients) ws.terminate();
    this.sockets.close();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, limits: SocketLimits): void {
    // Before anything is written: a client that resets at once must not take the process with it.
    socket.on('error', () => this.counters.socketErrors++);
    const refuse = (status: string) => {
      this.counters.refusedUpgrades++;
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    };
    const url = parseRequestUrl(req);
    if (!url || url.pathname !== '/ws') return refuse('404 Not Found');
    if (!this.origins.hostAllowed(req.headers.host)) return refuse('421 Misdirected Request');
    if (!this.auth.authorized(req, url, true)) return refuse('401 Unauthorized');
    if (!this.origins.originAllowed(req.headers.origin, req.headers.host)) return refuse('403 Forbidden');
    const hz = telemetryRate(url.searchParams.get('hz'), this.options.telemetryHz);
    this.sockets.handleUpgrade(req, socket, head, (ws) =>
      attachDashboardSocket(
        ws,
        hz,
        {
          snapshot: () => this.snapshot(),
          execute: (raw) => this.options.commands.execute(raw),
          subscribeEvents: (listener) => this.options.subscribeEvents(listener),
        },
        this.counters,
        limits,
      ),
    );
  }

  private snapshot(): DashboardSnapshot {
    return { ...this.options.snapshot(), server: this.stats() };
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = parseRequestUrl(req);
    if (!url) throw this.refused(400, 'BAD_PATH', 'the request target is not a path');
    if (!this.origins.hostAllowed(req.headers.host))
      throw this.refused(421, 'MISDIRECTED', 'the Host header does not name this server (expected its address and port)');
    if (url.pathname.startsWith('/api/')) {
      if (!this.auth.authorized(req, url)) throw new HttpError(401, 'UNAUTHORIZED', 'missing or wrong token');
      const upload = UPLOAD_PATH.exec(url.pathname);
      if (upload) {
        if (req.method !== 'POST') throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${url.pathname} takes POST`, { Allow: 'POST' });
        this.checkStateChange(req, 'application/octet-stream');
        return handleUpload(req, res, upload[1]!, this.options.uploads);
      }
      const api = this.api.get(url.pathname);
      if (!api) throw new HttpError(404, 'NOT_FOUND', `no ${req.method} ${url.pathname}`);
      if (req.method !== api.method)
        throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${url.pathname} takes ${api.method}, not ${req.method}`, { Allow: api.method });
      if (api.method === 'POST') this.checkStateChange(req);
      return api.handle(req, res, url);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'METHOD_NOT_ALLOWED', 'read-only', { Allow: 'GET, HEAD' });
    if (url.searchParams.has('token')) return this.tradeTokenForCookie(url, res);
    await this.files.serve(url.pathname, res);
  }

  /**
   * A form, a text/plain fetch or a multipart body from another site is a "simple" request
   * a browser sends without asking: only JSON from the dashboard's own origin changes anything.
   */
  private checkStateChange(req: IncomingMessage, expected = 'application/json'): void {
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== expected) throw this.refused(415, 'UNSUPPORTED_MEDIA_TYPE', `send the body as Content-Type: ${expected}`);
    if (!this.origins.originAllowed(req.headers.origin, req.headers.host))
      throw this.refused(403, 'FORBIDDEN_ORIGIN', 'requests from another origin may not change anything');
  }

  private refused(status: number, code: string, message: string): HttpError {
    this.refusedRequests++;
    return new HttpError(status, code, message);
  }

  /** The page was opened with ?token=: set (or, when wrong, clear) the cookie and show the same URL without it. */
  private tradeTokenForCookie(url: URL, res: ServerResponse): void {
    const valid = this.auth.matches(url.searchParams.get('token'));
    url.searchParams.delete('token');
    res.writeHead(303, {
      Location: `${url.pathname}${url.search}`,
      'Set-Cookie': this.auth.setCookie(valid),
      'Cache-Control': 'no-store',
      'Referrer-Policy': 'no-referrer',
    });
    res.end();
  }

  private readonly api = new Map<string, ApiRoute>([
    ['/api/snapshot', { method: 'GET', handle: (_req, res) => sendJson(res, 200, this.snapshot()) }],
    ['/api/commands', { method: 'POST', handle: (req, res) => this.runCommand(req, res) }],
    ['/api/experience.npz', { method: 'GET', handle: (_req, res, url) => this.sendExport(url, res) }],
  ]);

  private async runCommand(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    let raw: unknown;
    try {
      raw = JSON.parse(body);
    } catch {
      throw new HttpError(400, 'INVALID_JSON', 'the body is not JSON');
    }
    const reply = await this.options.commands.execute(raw);
    sendJson(res, reply.ok ? 200 : reply.error.code === 'INVALID_COMMAND' ? 400 : 409, reply);
  }

  /** `?sample=N` (uniform random), `?newest=N`, or nothing (every item). */
  private sendExport(url: URL, res: ServerResponse): void {
    const exporter = this.options.exportExperience;
    if (!exporter) throw new HttpError(404, 'NO_EXPERIENCE_BUFFER', 'no experience buffer: the running demo has none');
    const keys = [...url.searchParams.keys()];
    const kind = keys[0] ?? 'all';
    const raw = url.searchParams.get(kind);
    // The export command's own schema decides what a selection may be (one definition of the limits).
    const parsed = parseCommand(
      'experience.export',
      raw === null ? { kind } : { kind, items: /^[0-9]{1,10}$/.test(raw) ? Number(raw) : raw },
    );
    if (keys.length > 1 || !parsed.ok)
      throw new HttpError(400, 'INVALID_QUERY', 'expected ?sample=N, ?newest=N (N from 1 to 2^28) or nothing');
    const which = parsed.args as ExportSelection;
    const { bytes, items } = exporter(which);
    res.writeHead(200, {
      'Content-Type': 'application/octet-stream',
      'Content-Length': bytes.byteLength,
      'Content-Disposition': `attachment; filename="experience-${which.kind}.npz"`,
      'X-Items': String(items),
      'Cache-Control': 'no-store',
    });
    res.end(bytes);
  }

  /**
   * connect-src 'self' covers the page's own WebSocket (CSP 3 lets 'self' match ws: on the
   * same host and port); naming ws://HOST:PORT instead would break on IPv6, whose literals
   * Chromium refuses as CSP sources.
   */
  private contentSecurityPolicy(): string {
    return "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
  }
}

/** The request's target as a URL on this server, or undefined when it is not a path (`*`, an absolute URL that cannot be parsed). */
function parseRequestUrl(req: IncomingMessage): URL | undefined {
  const target = req.url ?? '/';
  if (!target.startsWith('/') || target.startsWith('//')) return undefined;
  try {
    return new URL(target, 'http://localhost');
  } catch {
    return undefined;
  }
}
