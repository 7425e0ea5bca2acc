/** A model name from a file's name, for the Models page's "Add a model". */
import { MODEL_NAME_PATTERN } from '../../src-preload/limits.js';

/** What is left of "my policy v2.onnx" under the model-name rule, or '' when nothing usable is. */
export function nameFromFile(fileName: string): string {
  const stem = fileName.replace(/\.onnx$/i, '').replace(/[^A-Za-z0-9._-]+/g, '-');
  const name = stem.replace(/^[^A-Za-z0-9]+/, '').slice(0, 64);
  return MODEL_NAME_PATTERN.test(name) ? name : '';
}
