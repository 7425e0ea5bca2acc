// Raw onnxruntime in a worker thread: one session, prebuilt batches, as fast as it goes.
// The ceiling the engine is measured against. Plain JS so that it runs as-is in a worker.
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';

const { modelPath, inputName, rowElements, batch, durationMs, intraOpThreads } = workerData;
const session = await ort.InferenceSession.create(modelPath, {
  intraOpNumThreads: intraOpThreads,
  interOpNumThreads: 1,
  executionMode: 'sequential',
});
const data = new Float32Array(batch * rowElements).map((_, i) => Math.sin(i));
const feeds = { [inputName]: new ort.Tensor('float32', data, [batch, rowElements]) };
for (let i = 0; i < 20; i++) await session.run(feeds); // warm-up
parentPort.postMessage({ type: 'ready' });
await new Promise((resolve) => parentPort.once('message', resolve));
const started = performance.now();
let rows = 0;
while (performance.now() - started < durationMs) {
  await session.run(feeds);
  rows += batch;
}
const elapsedMs = performance.now() - started;
await session.release();
parentPort.postMessage({ type: 'done', rows, elapsedMs });
