/**
 * A model file a user adds from the dashboard, published as the next version of its model
 * (version 1 of a new one): streamed into `<repository>/.uploads/` with its size bounded as
 * it arrives, marked READY, then renamed into place, so the updater never sees a part of
 * it. The name is checked by the repository's own rule before anything is written, and
 * nothing but the staging folder and the version folder is ever touched.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { MODEL_FILE, READY_MARKER, modelDir, versionDir } from './layout.js';

/** The upload is larger than the repository takes. */
export class UploadTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`the model file is larger than ${maxBytes} bytes, the most a version may be`);
    this.name = 'UploadTooLargeError';
  }
}

/** The upload is not a model file at all (empty). */
export class EmptyUploadError extends Error {
  constructor() {
    super('the file is empty');
    this.name = 'EmptyUploadError';
  }
}

const VERSION = /^[1-9][0-9]{0,8}$/;
/** Tries at a version number before giving up: another publisher (the learner) may take the next one meanwhile. */
const ATTEMPTS = 5;
let uploads = 0;
/** Where uploads are written before they are published (a dot folder: never taken for a model). */
export const UPLOADS_FOLDER = '.uploads';

async function newestVersion(root: string, model: string): Promise<number> {
  try {
    const names = await readdir(modelDir(root, model));
    return names.filter((n) => VERSION.test(n)).reduce((max, n) => Math.max(max, Number(n)), 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0; // a new model
    throw error;
  }
}

function bounded(maxBytes: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, done) {
      seen += chunk.byteLength;
      if (seen > maxBytes) done(new UploadTooLargeError(maxBytes));
      else done(null, chunk);
    },
  });
}

/** Publish `source` (the file's bytes as they arrive) as the model's next version; returns the version. */
export async function publishUpload(
  root: string,
  model: string,
  source: AsyncIterable<Uint8Array> | NodeJS.ReadableStream,
  maxBytes: number,
): Promise<{ version: number; bytes: number }> {
  const dir = modelDir(root, model); // the name rule, before anything is written
  // Staged beside the models, not in the model's folder: a refused upload must not leave a new, empty model behind.
  const staging = join(root, UPLOADS_FOLDER, `${process.pid}-${++uploads}`);
  await mkdir(staging, { recursive: true });
  try {
    const file = join(staging, MODEL_FILE);
    const sink = createWriteStream(file, { mode: 0o644 });
    await pipeline(source, bounded(maxBytes), sink);
    if (sink.bytesWritten === 0) throw new EmptyUploadError();
    await writeFile(join(staging, READY_MARKER), '');
    for (let attempt = 0; ; attempt++) {
      const version = (await newestVersion(root, model)) + 1;
      try {
        await mkdir(dir, { recursive: true });
        await rename(staging, versionDir(root, model, version));
        return { version, bytes: sink.bytesWritten };
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        // The version appeared between the listing and the rename: take the next one.
        if ((code !== 'EEXIST' && code !== 'ENOTEMPTY') || attempt + 1 >= ATTEMPTS) throw error;
      }
    }
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
