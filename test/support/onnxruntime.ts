// Running a model with onnxruntime-node (Node-only tests): the outputs for a seeded random input, and how
// far two runs' outputs are apart.
import * as ort from 'onnxruntime-node';
import { seededRandom } from './random.js';

/** Every output of the model for one input of `inputShape`, uniform in [-1, 1) from `seed`. */
export async function outputs(bytes: Uint8Array, inputShape: number[], seed: number): Promise<Float32Array[]> {
  const session = await ort.InferenceSession.create(bytes);
  const rand = seededRandom(seed);
  const data = Float32Array.from({ length: inputShape.reduce((a, b) => a * b, 1) }, () => rand() * 2 - 1);
  const result = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', data, inputShape) });
  return session.outputNames.map((n) => result[n]!.data as Float32Array);
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
