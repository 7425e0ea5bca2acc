/**
 * Request and response bodies of the inference API: read with a size limit (counted
 * before and after decompression, so that a small gzip cannot expand past it), and
 * compressed for the client when it asks, as Triton does (gzip or deflate).
 */
import type { IncomingMessage } from 'node:http';
import { promisify } from 'node:util';
import { constants, deflate, deflateSync, gzip, gunzip, gzipSync, inflate } from 'node:zlib';
import { ProtocolError } from './protocol-error.js';

const gunzipAsync = promisify(gunzip);
const inflateAsync = promisify(inflate);
const gzipAsync = promisify(gzip);
const deflateAsync = promisify(deflate);

function tooLarge(limit: number): ProtocolError {
  return new ProtocolError('too_large', `the request body is over the limit of ${limit} bytes`);
}

export async function readRequestBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw tooLarge(limit);
    chunks.push(chunk as Buffer);
  }
  const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
  const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding === 'identity') return body;
  const decode = encoding === 'gzip' ? gunzipAsync : encoding === 'deflate' ? inflateAsync : undefined;
  if (!decode) throw new ProtocolError('unsupported', `Content-Encoding "${encoding}" is not accepted (gzip, deflate or none)`);
  try {
    return await decode(body, { maxOutputLength: limit });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(limit);
    throw new ProtocolError('invalid', `the ${encoding} body does not decompress: ${(error as Error).message}`, undefined, {
      cause: error,
    });
  }
}

/** The encoding to answer with, from Accept-Encoding: gzip or deflate when named (with a q above 0), else none. */
export function responseEncoding(req: IncomingMessage): 'gzip' | 'deflate' | undefined {
  const header = req.headers['accept-encoding'];
  if (!header) return undefined;
  for (const part of header.split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    if (q !== undefined && Number(q.slice(2)) === 0) continue;
    if (name === 'gzip' || name === 'deflate') return name;
  }
  return undefined;
}

/**
 * Under this, an answer goes uncompressed even to a client that accepts gzip (HTTP lets the
 * server choose identity): headers outweigh what a few hundred bytes would save, and
 * asyncio clients (aiohttp, so tritonclient.http.aio) send Accept-Encoding by default.
 */
export const MIN_COMPRESSED_BYTES = 1024;

// The fastest level: tensors of floats hardly compress at any level (4 KiB of random float32
// shrinks by 9% at level 1 as at level 6), and level 1 takes half the time.
const FAST = { level: constants.Z_BEST_SPEED };

/**
 * Up to this size an answer is compressed synchronously: Node's asynchronous zlib costs the
 * event loop more than the work itself on small buffers (4 KiB at level 1: 0.06 ms
 * synchronous, 0.2 ms and more asynchronous, most of it on this thread; bench:protocol
 * under binary 128-row load saw it at over a quarter of the main thread's busy time).
 * Larger answers go to the thread pool, so that no one answer holds the loop for long.
 */
const SYNC_COMPRESS_MAX_BYTES = 64 * 1024;

export function compress(body: Buffer, encoding: 'gzip' | 'deflate'): Promise<Buffer> {
  if (body.byteLength <= SYNC_COMPRESS_MAX_BYTES)
    return Promise.resolve(encoding === 'gzip' ? gzipSync(body, FAST) : deflateSync(body, FAST));
  return encoding === 'gzip' ? gzipAsync(body, FAST) : deflateAsync(body, FAST);
}
