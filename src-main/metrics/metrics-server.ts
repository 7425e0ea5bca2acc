/**
 * `GET /metrics` on its own port (8002 by default, as Triton), for a Prometheus server to
 * scrape. The token is required (`Authorization: Bearer`, which Prometheus sends from its
 * `authorization` scrape setting) unless the operator made the endpoint public.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { compress, responseEncoding } from '../inference/http-body.js';
import { listen } from '../server/listen.js';
import { urlHost } from '../server/origin-policy.js';
import type { TokenAuth } from '../server/token-auth.js';
import type { SwitchboardMetrics } from './metrics-registry.js';

export interface MetricsServerOptions {
  readonly metrics: SwitchboardMetrics;
  readonly auth: TokenAuth;
  /** Serve without the token (for a Prometheus that cannot send one). */
  readonly public?: boolean;
  readonly port?: number;
  readonly bindAddress?: string;
  readonly log?: (message: string) => void;
}

export class MetricsServer {
  private readonly server: Server;
  private readonly bindAddress: string;
  private portValue = 0;

  constructor(private readonly options: MetricsServerOptions) {
    this.bindAddress = options.bindAddress ?? '127.0.0.1';
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        options.log?.(`metrics server: ${(error as Error).stack ?? String(error)}`);
        if (!res.headersSent) this.plain(res, 500, 'internal error (see the server log)');
        else res.destroy();
      });
    });
  }

  get port(): number {
    return this.portValue;
  }

  get url(): string {
    return `http://${urlHost(this.bindAddress)}:${this.portValue}/metrics`;
  }

  async start(): Promise<void> {
    const port = this.options.port ?? 8002;
    this.portValue = await listen(this.server, port, this.bindAddress);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    req.resume(); // a scrape has no body; whatever was sent is not read
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') return this.plain(res, 404, 'not found: the metrics are at /metrics');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD');
      return this.plain(res, 405, '/metrics takes GET');
    }
    if (!this.options.public && !this.options.auth.bearer(req))
      return this.plain(res, 401, 'missing or wrong token (send Authorization: Bearer <token>)');
    const text = Buffer.from(await this.options.metrics.scrape());
    const encoding = responseEncoding(req);
    const body = encoding ? await compress(text, encoding) : text;
    res.writeHead(200, {
      'Content-Type': this.options.metrics.contentType,
      'Content-Length': String(body.byteLength),
      'Cache-Control': 'no-store',
      ...(encoding ? { 'Content-Encoding': encoding } : {}),
    });
    res.end(req.method === 'HEAD' ? undefined : body);
  }

  private plain(res: ServerResponse, status: number, message: string): void {
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(`${message}\n`);
  }
}
