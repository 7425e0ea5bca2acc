/**
 * Multi-layer perceptrons as ONNX graphs: the demo policy, and the small and large
 * benchmark models. Weights are either given (a learner's parameters) or drawn from a
 * seeded uniform Glorot initialisation, so the same seed always yields the same bytes.
 */
import { mulberry32 } from '../util/prng.js';
import { OnnxGraphBuilder, type Dim } from './onnx-builder.js';
import { ModelProto } from './onnx-proto.js';

export interface MlpSpec {
  /** Layer widths, input first: [64, 256, 256, 8]. */
  readonly layers: readonly number[];
  readonly activation?: 'relu' | 'tanh';
  /** The batch dimension: a symbolic name for dynamic batching, or a fixed size. */
  readonly batch?: Dim;
  readonly inputName?: string;
  readonly outputName?: string;
  readonly seed?: number;
  /** Flat parameters in layer order (W0 row-major [in,out], b0, W1, b1, ...). */
  readonly parameters?: Float32Array;
  readonly metadata?: Record<string, string>;
}

export function mlpParameterCount(layers: readonly number[]): number {
  let count = 0;
  for (let i = 0; i + 1 < layers.length; i++) count += layers[i]! * layers[i + 1]! + layers[i + 1]!;
  return count;
}

export function randomMlpParameters(layers: readonly number[], seed: number): Float32Array {
  const random = mulberry32(seed);
  const params = new Float32Array(mlpParameterCount(layers));
  let offset = 0;
  for (let i = 0; i + 1 < layers.length; i++) {
    const fanIn = layers[i]!;
    const fanOut = layers[i + 1]!;
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    for (let j = 0; j < fanIn * fanOut; j++) params[offset++] = (random() * 2 - 1) * limit;
    offset += fanOut; // biases start at zero
  }
  return params;
}

export function buildMlp(spec: MlpSpec): Uint8Array {
  const { layers } = spec;
  if (layers.length < 2) throw new RangeError('an MLP needs at least an input and an output width');
  const batch = spec.batch ?? 'batch';
  const inputName = spec.inputName ?? 'obs';
  const outputName = spec.outputName ?? 'logits';
  const params = spec.parameters ?? randomMlpParameters(layers, spec.seed ?? 1);
  if (params.length !== mlpParameterCount(layers)) {
    throw new RangeError(`expected ${mlpParameterCount(layers)} parameters, got ${params.length}`);
  }
  const graph = new OnnxGraphBuilder('mlp')
    .input(inputName, 'float32', [batch, layers[0]!])
    .output(outputName, 'float32', [batch, layers[layers.length - 1]!]);
  let offset = 0;
  let current = inputName;
  for (let i = 0; i + 1 < layers.length; i++) {
    const fanIn = layers[i]!;
    const fanOut = layers[i + 1]!;
    const weights = params.subarray(offset, offset + fanIn * fanOut);
    offset += fanIn * fanOut;
    const bias = params.subarray(offset, offset + fanOut);
    offset += fanOut;
    graph.initializer(`W${i}`, 'float32', [fanIn, fanOut], weights);
    graph.initializer(`b${i}`, 'float32', [fanOut], bias);
    const last = i + 2 === layers.length;
    const linear = last ? outputName : `h${i}_linear`;
    graph.node('Gemm', [current, `W${i}`, `b${i}`], [linear]);
    if (!last) {
      const activated = `h${i}`;
      graph.node(spec.activation === 'tanh' ? 'Tanh' : 'Relu', [linear], [activated]);
      current = activated;
    }
  }
  for (const [key, value] of Object.entries(spec.metadata ?? {})) graph.meta(key, value);
  return graph.build();
}

interface DecodedTensor {
  name: string;
  dims: (number | { toNumber(): number })[];
  raw_data?: Uint8Array;
}

/**
 * The flat parameters of an MLP that `buildMlp` wrote (W0, b0, W1, b1, ... as float32
 * initializers), so a learner restarted on a repository continues from its last
 * published version. Throws RangeError when the file is not such an MLP of `layers`.
 */
export function mlpParametersFromOnnx(bytes: Uint8Array, layers: readonly number[]): Float32Array {
  const model = ModelProto.toObject(ModelProto.decode(bytes), { arrays: true }) as { graph?: { initializer?: DecodedTensor[] } };
  const tensors = new Map((model.graph?.initializer ?? []).map((t) => [t.name, t]));
  const params = new Float32Array(mlpParameterCount(layers));
  let offset = 0;
  const take = (name: string, dims: number[]) => {
    const tensor = tensors.get(name);
    const actual = tensor?.dims.map((d) => (typeof d === 'number' ? d : d.toNumber()));
    if (!tensor?.raw_data || JSON.stringify(actual) !== JSON.stringify(dims))
      throw new RangeError(`initializer ${name} ${JSON.stringify(actual ?? null)} is not the expected ${JSON.stringify(dims)}`);
    const count = dims.reduce((a, b) => a * b, 1);
    if (tensor.raw_data.byteLength !== count * 4) throw new RangeError(`initializer ${name} holds ${tensor.raw_data.byteLength} bytes`);
    // Copy through bytes: the protobuf slice need not be 4-byte aligned.
    new Uint8Array(params.buffer, offset * 4, count * 4).set(tensor.raw_data);
    offset += count;
  };
  for (let i = 0; i + 1 < layers.length; i++) {
    take(`W${i}`, [layers[i]!, layers[i + 1]!]);
    take(`b${i}`, [layers[i + 1]!]);
  }
  return params;
}
