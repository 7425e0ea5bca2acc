// Raw onnxruntime in a worker thread: one session, prebuilt batches, as fast as it goes.
// The ceiling the engine is measured against. Plain JS so that it runs as-is in a worker.
// It stays loaded between measurements: each {durationMs} message runs batches back to back
// for that long and answers {rows, elapsedMs}.
import { parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';

const { modelPath, inputName, rowElements, batch, intraOpThreads } = workerData;
const session = await ort.InferenceSession.create(modelPath, {
  intraOpNumThreads: intraOpThreads,
  interOpNumThreads: 1,
  executionMode: 'sequential',
});
const data = new Float32Array(batch * rowElements).map((_, i) => Math.sin(i));
const feeds = { [inputName]: new ort.Tensor('float32', data, [batch, rowElements]) };
for (let i = 0; i < 20; i++) await session.run(feeds); // warm-up

parentPort.on('message', async ({ durationMs }) => {
  const started = performance.now();
  let rows = 0;
  while (performance.now() - started < durationMs) {
    await session.run(feeds);
    rows += batch;
  }
  parentPort.postMessage({ rows, elapsedMs: performance.now() - started });
});
parentPort.postMessage({ ready: true });
