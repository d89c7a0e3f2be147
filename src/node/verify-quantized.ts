// A proxy, not accuracy: how close the quantized model's outputs stay to the float model's, on synthetic
// inputs, run with onnxruntime-node (loaded only here, and only when asked: it is an optional peer).
// SQNR = 10·log10(Σy² / Σ(y − y_q)²) over every float32/float64 output element of every input set. An output
// a final Softmax or Sigmoid writes is compared as the logits it came from (docs/cli.md, "Proof"): probabilities
// saturate, so on synthetic inputs their SQNR says little (a detector's map of all but zeros, a softmax that
// puts everything on one class).
import { WeightlensError } from '../errors.js';
import { nodeProducing } from '../onnx/lookup.js';
import type { Model } from '../onnx/model.js';
import { inputDistribution } from '../quant/input-distribution.js';
import { drawInput, normals } from '../quant/synthetic-inputs.js';
import { openModelFile } from './open-file.js';

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
  /** How each compared (float) output was taken: `values`, or `logits (before Softmax "name")`. */
  outputs: Record<string, string>;
}

/** How an output is compared: as written, or mapped back through the Softmax or Sigmoid that wrote it. */
type OutputSpace =
  | { kind: 'values' }
  | { kind: 'sigmoid'; node: string }
  /** Softmax rows: along `axis` alone (opset 13+), or over all axes from `axis` on (`flattened`, before 13). */
  | { kind: 'softmax'; node: string; axis: number; flattened: boolean };

function outputSpace(model: Model, output: string): OutputSpace {
  const node = nodeProducing(model.main, output);
  if (node?.opType === 'Sigmoid') return { kind: 'sigmoid', node: node.name };
  if (node?.opType !== 'Softmax' || node.domain !== '') return { kind: 'values' };
  const opset = model.opsets[''] ?? 1;
  const axis = node.attributes.get('axis');
  return {
    kind: 'softmax',
    node: node.name,
    axis: axis?.kind === 'int' ? axis.value : opset >= 13 ? -1 : 1,
    flattened: opset < 13,
  };
}

const spaceName = (s: OutputSpace) =>
  s.kind === 'values' ? 'values' : `logits (before ${s.kind === 'sigmoid' ? 'Sigmoid' : 'Softmax'} "${s.node}")`;

// Probabilities are clamped into float32's normal range before the logarithm: 0 and 1 come from logits beyond
// float32's reach, and there float and quantized model agree.
const TINY = 2 ** -126;
const ONE_BELOW = 1 - 2 ** -24;

/**
 * The logits behind `p`, up to what Softmax and Sigmoid lose: a Sigmoid's logit(p) = ln(p / (1 − p)); a
 * Softmax's ln p centred over each row (a softmax forgets each row's offset, so both models are compared
 * without it).
 */
function logits(p: ArrayLike<number>, dims: readonly number[], space: OutputSpace): Float64Array {
  const out = new Float64Array(p.length);
  if (space.kind === 'values') {
    for (let i = 0; i < p.length; i++) out[i] = p[i]!;
    return out;
  }
  if (space.kind === 'sigmoid') {
    for (let i = 0; i < p.length; i++) {
      const q = Math.min(Math.max(p[i]!, TINY), ONE_BELOW);
      out[i] = Math.log(q / (1 - q));
    }
    return out;
  }
  const axis = space.axis < 0 ? space.axis + dims.length : space.axis;
  const n = space.flattened ? dims.slice(axis).reduce((a, b) => a * b, 1) : dims[axis]!;
  const inner = space.flattened ? 1 : dims.slice(axis + 1).reduce((a, b) => a * b, 1);
  for (let i = 0; i < p.length; i++) out[i] = Math.log(Math.max(p[i]!, TINY));
  for (let outer = 0; outer < p.length / (n * inner); outer++)
    for (let k = 0; k < inner; k++) {
      const at = (j: number) => (outer * n + j) * inner + k;
      let mean = 0;
      for (let j = 0; j < n; j++) mean += out[at(j)]!;
      mean /= n;
      for (let j = 0; j < n; j++) out[at(j)] = out[at(j)]! - mean;
    }
  return out;
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
  const graph = await openModelFile(floatPath);
  const fitted = await inputDistribution(graph);
  const drawn = new Map([[fitted.input, fitted]]);
  const spaces = new Map(float.outputNames.map((name) => [name, outputSpace(graph, name)]));
  const compared = new Set<string>();
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
        feeds[meta.name] = new ort.Tensor('float32', drawInput(dims, drawn.get(meta.name), draw), dims);
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
      const space = spaces.get(name)!;
      compared.add(name);
      const [xs, ys] = [logits(x.data as Float32Array, x.dims, space), logits(y.data as Float32Array, y.dims, space)];
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
      (fitted.source === 'N(0, 1)'
        ? 'float inputs N(0, 1)'
        : `"${fitted.input}" ${fitted.source} (per-channel means ${Array.from(fitted.mean, (m) => m.toPrecision(3)).join(', ')}; ` +
          `smooth variance ${fitted.smooth.toPrecision(3)}, white ${fitted.white.toPrecision(3)}), other float inputs N(0, 1)`) +
      ', int64 inputs small non-negative integers, seeded; open dimensions: batch 1, others ' +
      open_,
    outputs: Object.fromEntries([...compared].map((name) => [name, spaceName(spaces.get(name)!)])),
  };
}
