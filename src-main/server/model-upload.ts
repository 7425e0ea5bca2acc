/**
 * POST /api/models/{name}/versions: a model file added from the headless dashboard,
 * published as the next version of `name` (version 1 of a new model). The body is the
 * file itself (application/octet-stream, which a page of another site cannot send without
 * a preflight this server never answers), bounded by the repository's size limit before
 * and while it is read. The name is the repository's rule, checked before anything is
 * written; the desktop app picks the file in the main process instead (no path ever comes
 * from the renderer).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { EngineError } from '../engine/errors.js';
import { RepositoryPathError } from '../repository/layout.js';
import { EmptyUploadError, UploadTooLargeError } from '../repository/upload.js';
import { HttpError, sendJson } from './http-basics.js';

export const UPLOAD_PATH = /^\/api\/models\/([^/]+)\/versions$/;

/** What the host offers for uploads: absent when it serves one file without a repository. */
export interface ModelUploads {
  readonly maxBytes: number;
  publish(model: string, body: AsyncIterable<Uint8Array>, maxBytes: number): Promise<{ version: number; bytes: number }>;
}

function modelName(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch (error) {
    throw new HttpError(400, 'INVALID_MODEL_NAME', 'the model name is not valid percent-encoding', {}, { cause: error });
  }
}

export async function handleUpload(
  req: IncomingMessage,
  res: ServerResponse,
  segment: string,
  uploads: ModelUploads | undefined,
): Promise<void> {
  if (!uploads)
    throw new HttpError(404, 'NO_REPOSITORY', 'this engine serves one file, without a repository: there is nowhere to add a model');
  const model = modelName(segment);
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > uploads.maxBytes)
    throw new HttpError(413, 'TOO_LARGE', `the file is ${declared} bytes; a version may be at most ${uploads.maxBytes}`, {
      Connection: 'close',
    });
  try {
    const { version, bytes } = await uploads.publish(model, req, uploads.maxBytes);
    sendJson(res, 201, { ok: true, result: { model, version, bytes } });
  } catch (error) {
    if (error instanceof RepositoryPathError) throw new HttpError(400, 'INVALID_MODEL_NAME', error.message);
    if (error instanceof UploadTooLargeError) throw new HttpError(413, 'TOO_LARGE', error.message, { Connection: 'close' });
    if (error instanceof EmptyUploadError) throw new HttpError(400, 'EMPTY_FILE', error.message);
    if (error instanceof EngineError) throw new HttpError(409, error.code, error.message);
    throw error;
  }
}
