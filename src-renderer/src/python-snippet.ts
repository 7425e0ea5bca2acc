/**
 * The Python a user pastes to call a served model through Triton's tritonclient: the
 * client, the token from the environment (never written into the snippet, which is
 * shown on screen and pasted into files), one input of each of the model's tensors with
 * a dimension of any size set to 1, and every output printed.
 */
import type { ModelMetadata } from '../../src-preload/wire.js';

type Datatype = ModelMetadata['inputs'][number]['datatype'];

const NUMPY: Record<Datatype, string> = {
  BOOL: 'np.bool_',
  UINT8: 'np.uint8',
  UINT16: 'np.uint16',
  UINT32: 'np.uint32',
  UINT64: 'np.uint64',
  INT8: 'np.int8',
  INT16: 'np.int16',
  INT32: 'np.int32',
  INT64: 'np.int64',
  FP16: 'np.float16',
  FP32: 'np.float32',
  FP64: 'np.float64',
  BYTES: 'np.object_',
};

/** The environment variable the snippet reads the token from (the server takes a stable token from the same one). */
export const TOKEN_VARIABLE = 'SWITCHBOARD_TOKEN';

/** A Python string literal: JSON's escapes are Python's for every character a tensor name can hold. */
function py(text: string): string {
  return JSON.stringify(text);
}

export type SnippetProtocol = 'http' | 'grpc';

/**
 * `address` is the HTTP base URL or the gRPC host:port; tritonclient takes host:port for
 * both. gRPC metadata keys are lowercase, HTTP's header is written as usual.
 */
export function tritonclientSnippet(protocol: SnippetProtocol, address: string, model: ModelMetadata): string {
  const hostPort = protocol === 'http' ? new URL(address).host : address;
  const m = protocol; // the module's name in the snippet: http or grpc
  const lines = [
    `# pip install "tritonclient[${protocol}]" numpy`,
    'import os',
    '',
    'import numpy as np',
    `import tritonclient.${protocol} as ${m}`,
    '',
    `client = ${m}.InferenceServerClient(${py(hostPort)})`,
    `headers = {${py(protocol === 'http' ? 'Authorization' : 'authorization')}: "Bearer " + os.environ[${py(TOKEN_VARIABLE)}]}`,
    '',
    'inputs = []',
  ];
  for (const input of model.inputs) {
    const shape = `[${input.shape.map((d) => (d < 0 ? 1 : d)).join(', ')}]`;
    const values =
      input.datatype === 'BYTES' ? `np.full(${shape}, b"", dtype=np.object_)` : `np.zeros(${shape}, dtype=${NUMPY[input.datatype]})`;
    lines.push(
      `tensor = ${m}.InferInput(${py(input.name)}, ${shape}, ${py(input.datatype)})`,
      `tensor.set_data_from_numpy(${values})`,
      'inputs.append(tensor)',
    );
  }
  lines.push('', `result = client.infer(${py(model.name)}, inputs, headers=headers)`);
  for (const output of model.outputs) lines.push(`print(${py(output.name)}, result.as_numpy(${py(output.name)}))`);
  return `${lines.join('\n')}\n`;
}
