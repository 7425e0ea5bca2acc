/**
 * What every route of the dashboard server shares: the typed HTTP error, the JSON answer,
 * and a body reader with a size limit. No error body ever carries a file-system path or a
 * stack: an unexpected error is logged here and answered with a fixed message.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Bodies of API requests at most (commands are small JSON objects). */
export const MAX_BODY_BYTES = 64 * 1024;

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'HttpError';
  }
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'application/json',
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(JSON.stringify(body));
}

/**
 * Answer an error. An HttpError says what it says; anything else is the server's fault,
 * and its message (which may hold a path, e.g. from a failed read) stays in the log.
 */
export function sendError(res: ServerResponse, error: unknown, log: (message: string) => void): void {
  let e: HttpError;
  if (error instanceof HttpError) e = error;
  else {
    log(`dashboard server: ${error instanceof Error ? error.message : String(error)}`);
    e = new HttpError(500, 'INTERNAL', 'internal error (see the server log)');
  }
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, e.status, { ok: false, error: { code: e.code, message: e.message } }, e.headers);
}

export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<string> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw new HttpError(413, 'TOO_LARGE', `body over ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new HttpError(413, 'TOO_LARGE', `body over ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
