/**
 * Writes the model the Python tests send every datatype through: one input and one output
 * per type the engine serves, each output its input through Identity, so that a round trip
 * through tritonclient must give back exactly what was sent. Built with the project's own
 * ONNX writer, so pytest needs no `onnx` package.
 *
 *   tsx test/python/write_all_dtypes_model.ts <path.onnx>
 */
import { writeFileSync } from 'node:fs';
import { DTYPES } from '../../src-main/engine/dtypes.js';
import { OnnxGraphBuilder } from '../../src-main/models/onnx-builder.js';

const target = process.argv[2];
if (target === undefined) throw new Error('usage: write_all_dtypes_model.ts <path.onnx>');
const graph = new OnnxGraphBuilder('all_dtypes');
for (const type of DTYPES) {
  graph
    .input(`x_${type}`, type, ['N', 3])
    .output(`y_${type}`, type, ['N', 3])
    .node('Identity', [`x_${type}`], [`y_${type}`]);
}
writeFileSync(target, graph.build(18));
