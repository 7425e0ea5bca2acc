/**
 * The Open Inference Protocol (KServe v2) over HTTP/REST, with Triton's binary tensor
 * data, statistics, model configuration and model repository extensions, on its own
 * port. Bound to loopback unless told otherwise; every endpoint but the health probes
 * needs the token as `Authorization: Bearer`. Errors are `{"error": "..."}` with the
 * status their kind says; every request accepted gets an answer.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listen } from '../server/listen.js';
import { urlHost } from '../server/origin-policy.js';
import type { TokenAuth } from '../server/token-auth.js';
import { compress, MIN_COMPRESSED_BYTES, readRequestBody, responseEncoding } from './http-body.js';
import { decodeHttpInferRequest, encodeHttpInferResponse, type InferLimits } from './http-infer-codec.js';
import { matchRoute, MethodNotAllowed, type MatchedRoute } from './http-routes.js';
import type { InferenceService } from './inference-service.js';
import { ProtocolError, protocolErrorOf, type ProtocolErrorKind } from './protocol-error.js';
import { ProtocolTraffic } from './protocol-traffic.js';

export interface HttpLimits extends InferLimits {
  /** Request bodies at most, after decompression. */
  readonly maxBodyBytes: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = { maxBodyBytes: 64 * 1024 * 1024, maxTensors: 64, maxElements: 16 * 1024 * 1024 };

/** The defaults with what the operator set (an undefined option keeps its default). */
export function resolveLimits(limits: Partial<HttpLimits> | undefined): HttpLimits {
  const given = Object.entries(limits ?? {}).filter(([, value]) => value !== undefined);
  return { ...DEFAULT_HTTP_LIMITS, ...Object.fromEntries(given) };
}

/** Bodies of the repository and index requests (small JSON). */
const SMALL_BODY_BYTES = 64 * 1024;

export interface InferenceHttpServerOptions {
  readonly service: InferenceService;
  readonly auth: TokenAuth;
  readonly port?: number;
  readonly bindAddress?: string;
  readonly limits?: Partial<HttpLimits>;
  readonly log?: (message: string) => void;
}

const STATUS: Record<ProtocolErrorKind, number> = {
  invalid: 400,
  not_found: 404,
  unavailable: 503,
  deadline: 504,
  cancelled: 499, // nginx's "client closed request": nobody is left to read it, but it is counted
  too_large: 413,
  already_exists: 409,
  exhausted: 429, // a quota: the client's own regions, or everyone's, take what the pool allows
  unauthenticated: 401,
  failed: 500,
  unsupported: 400,
  internal: 500,
};

export function httpStatusOf(error: ProtocolError): number {
  return error instanceof MethodNotAllowed ? 405 : STATUS[error.kind];
}

export class InferenceHttpServer {
  readonly traffic = new ProtocolTraffic('http');
  private readonly server: Server;
  private readonly limits: HttpLimits;
  private readonly bindAddress: string;
  private portValue = 0;

  constructor(private readonly options: InferenceHttpServerOptions) {
    this.limits = resolveLimits(options.limits);
    this.bindAddress = options.bindAddress ?? '127.0.0.1';
    this.server = createServer((req, res) => void this.handle(req, res));
    // Clients keep connections open between requests (tritonclient, perf_analyzer): longer than Node's 5 s.
    this.server.keepAliveTimeout = 75_000;
    this.server.on('connection', (socket) => {
      this.traffic.connectionOpened();
      socket.once('close', () => this.traffic.connectionClosed());
    });
    this.server.on('clientError', (_error, socket) => {
      this.traffic.answered('400', true);
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      else socket.destroy();
    });
  }

  get port(): number {
    return this.portValue;
  }

  get url(): string {
    return `http://${urlHost(this.bindAddress)}:${this.portValue}`;
  }

  async start(): Promise<void> {
    const port = this.options.port ?? 8000;
    this.portValue = await listen(this.server, port, this.bindAddress);
  }

  async stop(): Promise<void> {
    this.server.closeIdleConnections();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      // Requests still running are answered (the engine drains after this); their connections then close.
      setTimeout(() => this.server.closeAllConnections(), 5000).unref();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    let route: MatchedRoute | undefined;
    try {
      const path = (req.url ?? '/').split('?')[0]!;
      route = matchRoute(req.method, path);
      if (!route.open && !this.options.auth.bearer(req))
        throw new ProtocolError('unauthenticated', 'missing or wrong token (send Authorization: Bearer <token>)');
      await this.run(route, req, res);
    } catch (error) {
      const e = protocolErrorOf(error);
      if (e.kind === 'internal') this.options.log?.(`inference HTTP: ${String((e.cause as Error | undefined)?.stack ?? e.cause)}`);
      this.sendError(req, res, e);
    } finally {
      const status = String(res.statusCode);
      this.traffic.answered(status, res.statusCode >= 400, route?.name === 'infer' ? performance.now() - started : undefined);
    }
  }

  private async run(route: MatchedRoute, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const service = this.options.service;
    const model = route.model!; // every route that reads it has it in its pattern
    switch (route.name) {
      case 'live':
        return this.sendStatus(req, res, service.isLive(), 'the server is stopping');
      case 'ready':
        return this.sendStatus(req, res, service.isReady(), 'not every model is serving yet');
      case 'server':
        return this.sendJson(req, res, 200, service.serverMetadata());
      case 'all-stats':
        return this.sendJson(req, res, 200, service.statistics());
      case 'model-stats':
        return this.sendJson(req, res, 200, service.statistics(model, route.version));
      case 'model-ready':
        return this.sendStatus(req, res, service.modelReady(model, route.version), `model "${model}" is not ready`);
      case 'model-config':
        return this.sendJson(req, res, 200, service.modelConfig(model, route.version));
      case 'model':
        return this.sendJson(req, res, 200, service.modelMetadata(model, route.version));
      case 'infer':
        return this.infer(model, route.version, req, res);
      case 'repository-index': {
        const body = await this.smallJson(req);
        const ready = body.ready;
        if (ready !== undefined && typeof ready !== 'boolean') throw new ProtocolError('invalid', '"ready" must be true or false');
        return this.sendJson(req, res, 200, service.repositoryIndex(ready ?? false));
      }
      case 'repository-load': {
        const parameters = (await this.smallJson(req)).parameters;
        if (parameters !== undefined && (typeof parameters !== 'object' || parameters === null || Object.keys(parameters).length > 0))
          // Triton's "config" and "file:" parameters would let a client write model files: they are not taken.
          throw new ProtocolError('unsupported', 'load takes no parameters here: models come from the repository, as published');
        await service.loadModel(model);
        return this.sendJson(req, res, 200, {});
      }
      case 'repository-unload':
        await this.smallJson(req); // {"parameters": {"unload_dependents": ...}}: there are no ensembles to unload
        await service.unloadModel(model);
        return this.sendJson(req, res, 200, {});
      case 'shm-status':
        return this.sendJson(
          req,
          res,
          200,
          service.sharedMemory.status(route.model).map((r) => ({ name: r.name, key: r.key, offset: r.offset, byte_size: r.byteSize })),
        );
      case 'shm-register': {
        const { key, offset, byte_size: byteSize } = await this.smallJson(req);
        if (typeof key !== 'string') throw new ProtocolError('invalid', '"key" must be the shared-memory object\'s key');
        if (typeof offset !== 'number' || typeof byteSize !== 'number')
          throw new ProtocolError('invalid', '"offset" and "byte_size" must be numbers of bytes');
        service.sharedMemory.register(model, key, offset, byteSize, peerOf(req));
        return this.sendJson(req, res, 200, {});
      }
      case 'shm-unregister':
        await this.smallJson(req);
        service.sharedMemory.unregister(route.model);
        return this.sendJson(req, res, 200, {});
    }
  }

  private async infer(model: string, version: number | undefined, req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.options.service.checkServed(model, version); // an unknown model is "not found", whatever the body holds
    const body = await readRequestBody(req, this.limits.maxBodyBytes);
    const headerLength = headerLengthOf(req);
    const request = decodeHttpInferRequest(body, headerLength, {
      model,
      version,
      clientId: peerOf(req),
      limits: this.limits,
    });
    const response = await this.options.service.infer(request);
    const encoded = encodeHttpInferResponse(response);
    const headers: Record<string, string> = {};
    if (encoded.headerLength !== undefined) headers['Inference-Header-Content-Length'] = String(encoded.headerLength);
    const type = encoded.headerLength !== undefined ? 'application/octet-stream' : 'application/json';
    await this.send(
      req,
      res,
      200,
      type,
      encoded.chunks.length === 1 ? (encoded.chunks[0] as Buffer) : Buffer.concat(encoded.chunks),
      headers,
      true,
    );
  }

  private async smallJson(req: IncomingMessage): Promise<Record<string, unknown>> {
    const body = await readRequestBody(req, SMALL_BODY_BYTES);
    if (body.byteLength === 0) return {};
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch (error) {
      throw new ProtocolError('invalid', 'the body is not JSON', undefined, { cause: error });
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json))
      throw new ProtocolError('invalid', 'the body must be a JSON object');
    return json as Record<string, unknown>;
  }

  /** Health and readiness: 200 with no body, or 400 with why, as Triton answers them. */
  private sendStatus(req: IncomingMessage, res: ServerResponse, ok: boolean, why: string): Promise<void> {
    if (ok) return this.send(req, res, 200, 'application/json', Buffer.alloc(0));
    return this.sendJson(req, res, 400, { error: why });
  }

  private sendJson(req: IncomingMessage, res: ServerResponse, status: number, body: unknown): Promise<void> {
    return this.send(req, res, status, 'application/json', Buffer.from(JSON.stringify(body)));
  }

  private sendError(req: IncomingMessage, res: ServerResponse, error: ProtocolError): void {
    if (res.headersSent || res.destroyed) {
      res.destroy();
      return;
    }
    const headers: Record<string, string> = {};
    if (error.retryAfterMs !== undefined) headers['Retry-After'] = String(Math.max(1, Math.ceil(error.retryAfterMs / 1000)));
    if (error instanceof MethodNotAllowed) headers.Allow = error.allow;
    const status = httpStatusOf(error);
    // Past a size limit, reading the rest would be what the limit is there to prevent: the connection closes instead.
    if (status === 413) headers.Connection = 'close';
    else if (!req.complete) req.resume(); // drain the unread body so the connection can carry the next request
    // An error is small: it is never compressed, so that it reads even where decompression failed.
    res.writeHead(status, { ...headers, 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
    res.end(JSON.stringify({ error: error.message }));
  }

  private async send(
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    contentType: string,
    body: Buffer,
    headers: Record<string, string> = {},
    /** Only inference answers are compressed, as Triton does: clients decompress those and no others. */
    compressible = false,
  ): Promise<void> {
    const encoding = compressible && body.byteLength >= MIN_COMPRESSED_BYTES ? responseEncoding(req) : undefined;
    const payload = encoding ? await compress(body, encoding) : body;
    if (res.destroyed) return; // the client went away while the answer was computed
    res.writeHead(status, {
      ...headers,
      'Content-Type': contentType,
      'Content-Length': String(payload.byteLength),
      'Cache-Control': 'no-store',
      ...(encoding ? { 'Content-Encoding': encoding } : {}),
    });
    res.end(payload);
  }
}

/** The rate limiter's and the shared-memory pool's key for a client: its address (one token is shared by all). */
function peerOf(req: IncomingMessage): string {
  return `peer:${req.socket.remoteAddress ?? 'unknown'}`;
}

function headerLengthOf(req: IncomingMessage): number | undefined {
  const value = req.headers['inference-header-content-length'];
  if (value === undefined) return undefined;
  const text = Array.isArray(value) ? value[0]! : value;
  if (!/^[0-9]{1,12}$/.test(text.trim())) throw new ProtocolError('invalid', 'Inference-Header-Content-Length must be a byte count');
  return Number(text.trim());
}
