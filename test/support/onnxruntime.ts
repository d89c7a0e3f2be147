// Running a model with onnxruntime-node (Node-only tests): the outputs for a seeded random input, and how
// far two runs' outputs are apart.
import * as ort from 'onnxruntime-node';
import { seededRandom } from './random.js';

async function allOutputs(model: Uint8Array | string, input: (name: string) => ort.Tensor): Promise<Float32Array[]> {
  const session = await (typeof model === 'string'
    ? ort.InferenceSession.create(model)
    : ort.InferenceSession.create(model));
  const result = await session.run({ [session.inputNames[0]!]: input(session.inputNames[0]!) });
  return session.outputNames.map((n) => result[n]!.data as Float32Array);
}

/** Every output of the model for one input of `inputShape`, uniform in [-1, 1) from `seed`. */
export function outputs(bytes: Uint8Array, inputShape: number[], seed: number): Promise<Float32Array[]> {
  const rand = seededRandom(seed);
  const data = Float32Array.from({ length: inputShape.reduce((a, b) => a * b, 1) }, () => rand() * 2 - 1);
  return allOutputs(bytes, () => new ort.Tensor('float32', data, inputShape));
}

/** Every output of a model file (external data read beside it) fed token ids [1, ids.length] (int64). */
export function outputsForIds(path: string, ids: readonly number[]): Promise<Float32Array[]> {
  return allOutputs(path, () => new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]));
}

/** Largest |a - b| over all outputs, and the largest |a|. */
export function deviation(expected: Float32Array[], actual: Float32Array[]): { diff: number; absMax: number } {
  let diff = 0,
    absMax = 0;
  expected.forEach((e, i) => {
    for (let k = 0; k < e.length; k++) {
      absMax = Math.max(absMax, Math.abs(e[k]!));
      diff = Math.max(diff, Math.abs(e[k]! - actual[i]![k]!));
    }
  });
  return { diff, absMax };
}
