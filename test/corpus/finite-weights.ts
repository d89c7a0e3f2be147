// Which floating-point constants of a model hold NaN or ±Inf: CLE must never write one into a model whose
// weights were all finite.
import { openModelFile } from '../../src/node/open-file.js';
import type { Model } from '../../src/onnx/model.js';

const FLOAT_TYPES = new Set(['float32', 'float16', 'bfloat16', 'float64']);
/** Larger tensors are left out: the corpus and fuzzer files are small, and a claim must not drive memory. */
const MAX_ELEMENTS = 1 << 24;

/** Names of float constants (every graph) with a non-finite value; tensors that cannot be read are skipped. */
export async function nonFiniteTensors(model: Model): Promise<string[]> {
  const found: string[] = [];
  for (const graph of model.graphs) {
    for (const tensor of graph.constants.values()) {
      if (!FLOAT_TYPES.has(tensor.dtype) || tensor.size > MAX_ELEMENTS) continue;
      const values = new Float32Array(tensor.size);
      const readable = await tensor.readFloat32Into(values).then(
        () => true,
        () => false,
      );
      if (readable && !values.every(Number.isFinite)) found.push(`${graph.path}:${tensor.name}`);
    }
  }
  return found;
}

/** nonFiniteTensors of a model file; none when it cannot be opened. */
export const nonFiniteTensorsIn = (path: string): Promise<string[]> =>
  openModelFile(path).then(nonFiniteTensors, () => []);
