/**
 * Writes the model the Python tests send every datatype through (identityPerDtypeModel: one
 * Identity per type the engine serves), so that pytest needs no \`onnx\` package.
 *
 *   tsx test/python/write_all_dtypes_model.ts <path.onnx>
 */
import { writeFileSync } from 'node:fs';
import { identityPerDtypeModel } from '../fixtures/models.js';

const target = process.argv[2];
if (target === undefined) throw new Error('usage: write_all_dtypes_model.ts <path.onnx>');
writeFileSync(target, identityPerDtypeModel());
