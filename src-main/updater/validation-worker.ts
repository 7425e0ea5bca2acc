/**
 * Worker thread of the updater process that validates model files. onnxruntime blocks
 * the thread it runs on; here that is this worker, so the updater's main thread keeps
 * its heartbeats and messages going while a large model loads.
 */
import { parentPort } from 'node:worker_threads';
import { asError } from '../engine/errors.js';
import { lowerPriority } from '../util/priority.js';
import { validateModelFile, type ValidationRequest, type Verdict } from './validate-model.js';

if (!parentPort) throw new Error('validation-worker must run in a worker thread');
const port = parentPort;
lowerPriority();

port.on('message', (request: ValidationRequest) => {
  validateModelFile(request).then(
    (verdict) => port.postMessage(verdict),
    (error: unknown) =>
      port.postMessage({
        ok: false,
        reason: `cannot read the file: ${asError(error).message}`,
        sha256: null,
        sizeBytes: 0,
      } satisfies Verdict),
  );
});
