/**
 * A small builder for ONNX graphs, so that the project makes its own models (the demo
 * policy, test fixtures, benchmark models) instead of downloading any.
 */
import { onnxTypeOf, type DType, type TensorData } from '../engine/dtypes.js';
import { ModelProto } from './onnx-proto.js';

export type Dim = number | string;

type AttributeValue = number | number[] | string | { floats: number[] };

interface AttributeMessage {
  name: string;
  type: number;
  i?: number;
  f?: number;
  s?: Uint8Array;
  ints?: number[];
  floats?: number[];
}

const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_STRING = 3;
const ATTR_FLOATS = 6;
const ATTR_INTS = 7;

function toAttribute(name: string, value: AttributeValue): AttributeMessage {
  if (typeof value === 'string') return { name, type: ATTR_STRING, s: new TextEncoder().encode(value) };
  if (Array.isArray(value)) return { name, type: ATTR_INTS, ints: value };
  if (typeof value === 'object') return { name, type: ATTR_FLOATS, floats: value.floats };
  return Number.isInteger(value) ? { name, type: ATTR_INT, i: value } : { name, type: ATTR_FLOAT, f: value };
}

function valueInfo(name: string, dtype: DType, shape: readonly Dim[]) {
  return {
    name,
    type: {
      tensor_type: {
        elem_type: onnxTypeOf(dtype),
        shape: { dim: shape.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) },
      },
    },
  };
}

export class OnnxGraphBuilder {
  private readonly inputs: ReturnType<typeof valueInfo>[] = [];
  private readonly outputs: ReturnType<typeof valueInfo>[] = [];
  private readonly initializers: object[] = [];
  private readonly nodes: object[] = [];
  private readonly metadata: { key: string; value: string }[] = [];

  constructor(private readonly name: string) {}

  input(name: string, dtype: DType, shape: readonly Dim[]): this {
    this.inputs.push(valueInfo(name, dtype, shape));
    return this;
  }

  output(name: string, dtype: DType, shape: readonly Dim[]): this {
    this.outputs.push(valueInfo(name, dtype, shape));
    return this;
  }

  initializer(name: string, dtype: DType, dims: readonly number[], data: TensorData): this {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
    this.initializers.push({ name, data_type: onnxTypeOf(dtype), dims: [...dims], raw_data: bytes });
    return this;
  }

  node(opType: string, inputs: readonly string[], outputs: readonly string[], attributes: Record<string, AttributeValue> = {}): this {
    this.nodes.push({
      op_type: opType,
      name: `${opType}_${this.nodes.length}`,
      input: [...inputs],
      output: [...outputs],
      attribute: Object.entries(attributes).map(([k, v]) => toAttribute(k, v)),
    });
    return this;
  }

  meta(key: string, value: string): this {
    this.metadata.push({ key, value });
    return this;
  }

  build(opset = 18): Uint8Array {
    const message = ModelProto.create({
      ir_version: 8,
      producer_name: 'switchboard',
      producer_version: '0.1.0',
      opset_import: [{ domain: '', version: opset }],
      metadata_props: this.metadata,
      graph: {
        name: this.name,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    });
    return ModelProto.encode(message).finish();
  }
}
