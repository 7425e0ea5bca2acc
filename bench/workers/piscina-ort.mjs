// What a user would write without Switchboard: a Piscina task that runs one request.
import { workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';

const { modelPath, intraOpThreads } = workerData;
const session = await ort.InferenceSession.create(modelPath, {
  intraOpNumThreads: intraOpThreads,
  interOpNumThreads: 1,
  executionMode: 'sequential',
});

export default async function run({ inputName, data, dims }) {
  const results = await session.run({ [inputName]: new ort.Tensor('float32', data, dims) });
  const first = Object.values(results)[0];
  return first.data;
}
