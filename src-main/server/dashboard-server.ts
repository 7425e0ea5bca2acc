/**
 * The headless front: an HTTP server on loopback that serves the built dashboard, the
 * JSON snapshot and commands, and a WebSocket that pushes telemetry and events and takes
 * commands. Everything but the dashboard's static files needs the random token printed
 * at start; a WebSocket must also come from the dashboard's own origin.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { WebSocketServer, type WebSocket } from 'ws';
import { parseCommand, SnapshotTakenSchema, type ServerMessage } from '../../src-preload/contract.js';
import type { EngineEvent } from '../engine/index.js';
import type { ExportSelection } from '../experience/service.js';
import type { DashboardSnapshot } from '../host/dashboard-snapshot.js';
import { TelemetryPacer } from '../host/telemetry-pacer.js';
import type { CommandExecutor } from './commands.js';

export interface DashboardServerOptions {
  readonly snapshot: () => DashboardSnapshot;
  /** Runs a raw command message (the server only forwards it and sends back the reply). */
  readonly commands: Pick<CommandExecutor, 'execute'>;
  /** GET /api/experience.npz: the experience buffer as .npz (absent: 404). */
  readonly exportExperience?: (which: ExportSelection) => { bytes: Uint8Array; items: number };
  readonly subscribeEvents: (listener: (event: EngineEvent) => void) => () => void;
  /** Folder of the built dashboard (out/renderer). */
  readonly staticDir: string;
  readonly port?: number;
  /** Loopback by default; anything else must be asked for explicitly. */
  readonly bindAddress?: string;
  readonly token?: string;
  /** Default telemetry rate; a client may ask for 1-30 Hz with ?hz=. */
  readonly telemetryHz?: number;
}

const MAX_BODY_BYTES = 64 * 1024;
const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

/** An API path: the one method it takes (another is 405, not 404) and what answers it. */
interface ApiRoute {
  readonly method: 'GET' | 'POST';
  handle(req: IncomingMessage, res: ServerResponse, url: URL): void | Promise<void>;
}

/** The server could not take its address: the port is in use, or not this process's to take. */
export class ListenError extends Error {
  constructor(
    readonly address: string,
    readonly port: number,
    /** The system's code, e.g. EADDRINUSE or EACCES. */
    readonly systemCode: string,
    cause: Error,
  ) {
    super(systemCode === 'EADDRINUSE' ? `${address}:${port} is already in use` : `cannot listen on ${address}:${port}: ${cause.message}`, {
      cause,
    });
    this.name = 'ListenError';
  }
}

export class DashboardServer {
  readonly token: string;
  private readonly server: Server;
  private readonly sockets: WebSocketServer;
  private readonly staticRoot: string;
  private portValue = 0;

  constructor(private readonly options: DashboardServerOptions) {
    this.token = options.token ?? randomBytes(24).toString('base64url');
    this.staticRoot = resolve(options.staticDir);
    this.server = createServer((req, res) => {
      this.route(req, res).catch((error: unknown) => this.fail(res, error));
    });
    this.sockets = new WebSocketServer({ noServer: true, maxPayload: MAX_BODY_BYTES });
    this.server.on('upgrade', (req, socket, head) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname !== '/ws' || !this.authorized(req, url) || !this.sameOrigin(req)) {
        socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n');
        return;
      }
      this.sockets.handleUpgrade(req, socket, head, (ws) => this.attach(ws, url));
    });
  }

  get port(): number {
    return this.portValue;
  }

  get url(): string {
    return `http://${this.options.bindAddress ?? '127.0.0.1'}:${this.portValue}/?token=${this.token}`;
  }

  async start(): Promise<void> {
    const address = this.options.bindAddress ?? '127.0.0.1';
    const port = this.options.port ?? 0;
    await new Promise<void>((resolvePromise, reject) => {
      this.server.once('error', (error: NodeJS.ErrnoException) => reject(new ListenError(address, port, error.code ?? 'UNKNOWN', error)));
      this.server.listen(port, address, () => resolvePromise());
    });
    this.portValue = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    for (const ws of this.sockets.clients) ws.terminate();
    this.sockets.close();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname.startsWith('/api/')) {
      if (!this.authorized(req, url)) throw new HttpError(401, 'UNAUTHORIZED', 'missing or wrong token');
      const api = this.api.get(url.pathname);
      if (!api) throw new HttpError(404, 'NOT_FOUND', `no ${req.method} ${url.pathname}`);
      if (req.method !== api.method)
        throw new HttpError(405, 'METHOD_NOT_ALLOWED', `${url.pathname} takes ${api.method}, not ${req.method}`, { Allow: api.method });
      return api.handle(req, res, url);
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'METHOD_NOT_ALLOWED', 'read-only', { Allow: 'GET, HEAD' });
    await this.serveStatic(url.pathname, res);
  }

  private readonly api = new Map<string, ApiRoute>([
    ['/api/snapshot', { method: 'GET', handle: (_req, res) => this.json(res, 200, this.options.snapshot()) }],
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
    this.json(res, reply.ok ? 200 : reply.error.code === 'INVALID_COMMAND' ? 400 : 409, reply);
  }

  /** `?sample=N` (uniform random), `?newest=N`, or nothing (every item). */
  private sendExport(url: URL, res: ServerResponse): void {
    const exporter = this.options.exportExperience;
    if (!exporter) throw new HttpError(404, 'NO_EXPERIENCE_BUFFER', 'no experience buffer: the running demo has none');
    const keys = [...url.searchParams.keys()].filter((k) => k !== 'token');
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

  private async serveStatic(pathname: string, res: ServerResponse): Promise<void> {
    const relative = pathname === '/' ? 'index.html' : decodeURIComponent(pathname).replace(/^\/+/, '');
    const file = resolve(this.staticRoot, normalize(relative));
    if (file !== this.staticRoot && !file.startsWith(this.staticRoot + sep)) throw new HttpError(404, 'NOT_FOUND', 'not found');
    let body: Buffer;
    try {
      body = await readFile(file);
    } catch (error) {
      // Missing is a 404; anything else (permissions, too many open files) is the server's fault and says so.
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR') throw new HttpError(404, 'NOT_FOUND', 'not found');
      throw error;
    }
    const type = CONTENT_TYPES[extname(file)] ?? 'application/octet-stream';
    res.writeHead(200, {
      'Content-Type': type,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'Cross-Origin-Opener-Policy': 'same-origin',
      ...(type.startsWith('text/html')
        ? {
            'Content-Security-Policy': `default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' ws://${this.hostHeader()}; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
            'Cache-Control': 'no-store',
          }
        : {}),
    });
    res.end(body);
  }

  /** One WebSocket client: telemetry at its rate (paced by its `snapshot-taken`), events, commands. */
  private attach(ws: WebSocket, url: URL): void {
    const hz = Math.min(30, Math.max(1, Number(url.searchParams.get('hz') ?? this.options.telemetryHz ?? 4) || 4));
    const send = (message: ServerMessage) => ws.send(JSON.stringify(message));
    const telemetry = new TelemetryPacer(hz, () => send({ type: 'snapshot', snapshot: this.options.snapshot() }));
    telemetry.ready(); // an open socket is listening
    const unsubscribe = this.options.subscribeEvents((event) => {
      if (ws.bufferedAmount < 1024 * 1024) send({ type: 'event', event });
    });
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
      void this.options.commands.execute(raw).then((reply) => send({ type: 'reply', reply }));
    });
    ws.on('close', () => {
      telemetry.close();
      unsubscribe();
    });
  }

  private authorized(req: IncomingMessage, url: URL): boolean {
    const header = req.headers.authorization;
    const given = header?.startsWith('Bearer ') ? header.slice(7) : url.searchParams.get('token');
    if (!given) return false;
    const a = Buffer.from(given);
    const b = Buffer.from(this.token);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  /** Browsers send Origin on WebSocket upgrades: it must be this server. Non-browser clients send none. */
  private sameOrigin(req: IncomingMessage): boolean {
    const origin = req.headers.origin;
    if (origin === undefined) return true;
    const allowed = [`http://127.0.0.1:${this.portValue}`, `http://localhost:${this.portValue}`, `http://${this.hostHeader()}`];
    return allowed.includes(origin);
  }

  private hostHeader(): string {
    return `${this.options.bindAddress ?? '127.0.0.1'}:${this.portValue}`;
  }

  private json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(status, {
      ...headers,
      'Content-Type': 'application/json',
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
    });
    res.end(JSON.stringify(body));
  }

  private fail(res: ServerResponse, error: unknown): void {
    const e = error instanceof HttpError ? error : new HttpError(500, 'INTERNAL', (error as Error).message);
    if (!res.headersSent) this.json(res, e.status, { ok: false, error: { code: e.code, message: e.message } }, e.headers);
    else res.end();
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'TOO_LARGE', `body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function defaultStaticDir(fromUrl: string): string {
  // out/main/<chunk>.js -> out/renderer; src-main/server/*.ts -> out/renderer
  return fromUrl.endsWith('.ts')
    ? resolve(new URL('../../out/renderer', fromUrl).pathname)
    : join(new URL('../renderer', fromUrl).pathname);
}
