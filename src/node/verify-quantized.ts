// A proxy, not accuracy: how close the quantized model's outputs stay to the float model's, on synthetic
// inputs, run with onnxruntime-node (loaded only here, and only when asked: it is an optional peer).
// SQNR = 10·log10(Σy² / Σ(y − y_q)²) over every float32/float64 output element of every input set.
import { WeightlensError } from '../errors.js';

export interface VerifyOptions {
  /** Input sets to run (default 4). */
  runs?: number;
  /** Size given to each dimension the model leaves open: the first (batch) 1, the others this (default 64). */
  openDimension?: number;
}

export interface VerifyReport {
  /** dB over all outputs and runs; null when the outputs are equal. */
  outputSqnr: number | null;
  runs: number;
  /** The shape each input was given. */
  inputs: Record<string, number[]>;
  /** What the inputs were: the proxy's terms. */
  inputsDrawn: string;
}

type Ort = typeof import('onnxruntime-node');

async function loadOrt(): Promise<Ort> {
  try {
    return await import('onnxruntime-node');
  } catch (cause) {
    throw new WeightlensError(
      'USAGE',
      'verifying runs both models with onnxruntime-node, which is not installed here (npm install onnxruntime-node)',
      { cause },
    );
  }
}

/** Seeded standard normals (Box–Muller over a 32-bit generator): the same inputs every run. */
function normals(seed: number): () => number {
  let a = seed >>> 0;
  const uniform = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
}

const FLOATS = new Set(['float32', 'float64']);

export async function verifyQuantized(
  floatPath: string,
  quantizedPath: string,
  options: VerifyOptions = {},
): Promise<VerifyReport> {
  const ort = await loadOrt();
  // The input model failing to load is the user's to know; the written one failing is a weightlens bug.
  const open = (path: string, code: 'BAD_GRAPH' | 'INTERNAL') =>
    ort.InferenceSession.create(path).catch((cause: unknown) => {
      throw new WeightlensError(code, `${path}: onnxruntime cannot load it to verify (${(cause as Error).message})`, {
        file: path,
        cause,
      });
    });
  const [float, quantized] = [await open(floatPath, 'BAD_GRAPH'), await open(quantizedPath, 'INTERNAL')];
  const runs = options.runs ?? 4;
  const open_ = options.openDimension ?? 64;
  const inputs: Record<string, number[]> = {};
  for (const meta of float.inputMetadata) {
    if (!meta.isTensor)
      throw new WeightlensError(
        'USAGE',
        `${floatPath}: input "${meta.name}" is not a tensor; cannot draw inputs for it`,
      );
    inputs[meta.name] = meta.shape.map((d, i) => (typeof d === 'number' && d > 0 ? d : i === 0 ? 1 : open_));
  }
  let signal = 0,
    noise = 0;
  for (let run = 0; run < runs; run++) {
    const draw = normals(0x5eed + run);
    const feeds: Record<string, InstanceType<Ort['Tensor']>> = {};
    for (const meta of float.inputMetadata) {
      if (!meta.isTensor) continue;
      const dims = inputs[meta.name]!;
      const n = dims.reduce((a, b) => a * b, 1);
      const type = meta.type;
      if (type === 'float32')
        feeds[meta.name] = new ort.Tensor('float32', Float32Array.from({ length: n }, draw), dims);
      else if (type === 'int64')
        feeds[meta.name] = new ort.Tensor(
          'int64',
          BigInt64Array.from({ length: n }, () => BigInt(Math.floor(Math.abs(draw()) * 8))),
          dims,
        );
      else
        throw new WeightlensError(
          'USAGE',
          `${floatPath}: input "${meta.name}" is ${type}; verifying draws float32 and int64 inputs only`,
        );
    }
    const [a, b] = [await float.run(feeds), await quantized.run(feeds)];
    for (const name of float.outputNames) {
      const [x, y] = [a[name]!, b[name]];
      if (!FLOATS.has(x.type) || !y) continue;
      const [xs, ys] = [x.data as Float32Array, y.data as Float32Array];
      for (let i = 0; i < xs.length; i++) {
        signal += xs[i]! * xs[i]!;
        noise += (xs[i]! - ys[i]!) ** 2;
      }
    }
  }
  return {
    outputSqnr: noise > 0 && signal > 0 ? 10 * Math.log10(signal / noise) : null,
    runs,
    inputs,
    inputsDrawn:
      'float inputs N(0, 1), int64 inputs small non-negative integers, seeded; open dimensions: batch 1, others ' +
      open_,
  };
}
