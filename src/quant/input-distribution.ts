// What a model's input is taken to be when nothing but the model is known: the distribution `--verify` draws
// its synthetic inputs from and that bias correction propagates E[x] from (docs/definitions.md, "Synthetic
// inputs"). N(0, 1) elements by default. When the first input feeds a Conv whose output goes straight into a
// BatchNormalization, the input is instead fitted to that BatchNorm's running statistics (μ, σ²: what the
// Conv wrote on the training data):
//   x[c, h, w] = m_c + √smooth · L[h, w] + √white · z[c, h, w]
// L a smooth unit-variance field shared by the channels (as brightness is in an image), z white noise. For
// output channel o, with S_oc = Σ_k W[o, c, k] and Q_oc = Σ_k W[o, c, k]², the Conv then writes mean
// Σ_c S_oc·m_c + b_o and variance smooth·(Σ_c S_oc)² + white·Σ_c Q_oc (L taken as constant across the kernel):
// m is fitted to μ by least squares, smooth and white to σ² by non-negative least squares.
import { nodeProducing, nodesReading } from '../onnx/lookup.js';
import { resolveConstant, type Model, type TensorRef } from '../onnx/model.js';

export interface InputDistribution {
  /** The input it applies to (the model's first input); others are N(0, 1). */
  readonly input: string;
  /** Mean per channel (axis 1); length 1: every channel alike. */
  readonly mean: Float64Array;
  /** Variance of the smooth field shared by all channels. */
  readonly smooth: number;
  /** Variance of the independent noise of each element. */
  readonly white: number;
  /** e.g. `N(0, 1)` or `fitted to BatchNormalization "bn1"`. */
  readonly source: string;
}

export const STANDARD_NORMAL = (input: string): InputDistribution => ({
  input,
  mean: new Float64Array([0]),
  smooth: 0,
  white: 1,
  source: 'N(0, 1)',
});

async function read(t: TensorRef, signal?: AbortSignal): Promise<Float64Array> {
  const values = new Float32Array(t.size);
  await t.readFloat32Into(values, signal);
  return Float64Array.from(values);
}

/** Solves A·x = b (n × n, row-major) by Gaussian elimination with partial pivoting; undefined if singular. */
function solve(a: Float64Array, b: Float64Array, n: number): Float64Array | undefined {
  const m = Float64Array.from(a);
  const x = Float64Array.from(b);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r * n + col]!) > Math.abs(m[pivot * n + col]!)) pivot = r;
    if (!(Math.abs(m[pivot * n + col]!) > 1e-300)) return undefined;
    for (let k = 0; k < n; k++) [m[col * n + k], m[pivot * n + k]] = [m[pivot * n + k]!, m[col * n + k]!];
    [x[col], x[pivot]] = [x[pivot]!, x[col]!];
    for (let r = col + 1; r < n; r++) {
      const f = m[r * n + col]! / m[col * n + col]!;
      for (let k = col; k < n; k++) m[r * n + k] = m[r * n + k]! - f * m[col * n + k]!;
      x[r] = x[r]! - f * x[col]!;
    }
  }
  for (let r = n - 1; r >= 0; r--) {
    let s = x[r]!;
    for (let k = r + 1; k < n; k++) s -= m[r * n + k]! * x[k]!;
    x[r] = s / m[r * n + r]!;
  }
  return x;
}

/** Least squares of the columns `cols` (each of length rows) against `target`; ridge-regularized lightly. */
function leastSquares(cols: Float64Array[], target: Float64Array): Float64Array | undefined {
  const n = cols.length;
  const ata = new Float64Array(n * n);
  const atb = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) ata[i * n + j] = cols[i]!.reduce((s, v, r) => s + v * cols[j]![r]!, 0);
    atb[i] = cols[i]!.reduce((s, v, r) => s + v * target[r]!, 0);
  }
  const trace = Array.from({ length: n }, (_, i) => ata[i * n + i]!).reduce((s, v) => s + v, 0);
  for (let i = 0; i < n; i++) ata[i * n + i] = ata[i * n + i]! + 1e-9 * trace;
  return solve(ata, atb, n);
}

/** Non-negative least squares in two unknowns: the unconstrained solution, else the better one-column fit. */
function nonNegative2(p: Float64Array, q: Float64Array, target: Float64Array): [number, number] {
  const both = leastSquares([p, q], target);
  if (both && both[0]! >= 0 && both[1]! >= 0) return [both[0]!, both[1]!];
  const one = (col: Float64Array) => {
    const den = col.reduce((s, v) => s + v * v, 0);
    const k = den > 0 ? Math.max(0, col.reduce((s, v, r) => s + v * target[r]!, 0) / den) : 0;
    return { k, err: target.reduce((s, t, r) => s + (t - k * col[r]!) ** 2, 0) };
  };
  const [a, b] = [one(p), one(q)];
  return a.err <= b.err ? [a.k, 0] : [0, b.k];
}

/** The distribution synthetic inputs are drawn from (see the head of this file). */
export async function inputDistribution(model: Model, signal?: AbortSignal): Promise<InputDistribution> {
  const graph = model.main;
  const input = graph.inputs.find((name) => !graph.constants.has(name)) ?? '';
  const fallback = STANDARD_NORMAL(input);
  const conv = nodesReading(graph, input).find((n) => n.opType === 'Conv' && n.inputs[0] === input);
  const bn = conv && nodesReading(graph, conv.outputs[0] ?? '').find((n) => n.opType === 'BatchNormalization');
  const group = conv?.attributes.get('group');
  if (!conv || !bn || nodeProducing(graph, bn.inputs[0] ?? '') !== conv || (group?.kind === 'int' && group.value !== 1))
    return fallback;
  const [w, b, mu, variance] = [conv.inputs[1], conv.inputs[2], bn.inputs[3], bn.inputs[4]].map((name) =>
    name ? resolveConstant(graph, name) : undefined,
  );
  if (!w || !mu || !variance || w.shape.length < 3 || (conv.inputs[2] && !b)) return fallback;
  const [cout, cin] = [w.shape[0]!, w.shape[1]!];
  if (mu.size !== cout || variance.size !== cout || (b && b.size !== cout)) return fallback;
  const weights = await read(w, signal);
  const k = weights.length / (cout * cin);
  const s = Array.from({ length: cin }, () => new Float64Array(cout));
  const sumS = new Float64Array(cout);
  const sumQ = new Float64Array(cout);
  for (let o = 0; o < cout; o++)
    for (let c = 0; c < cin; c++)
      for (let j = (o * cin + c) * k; j < (o * cin + c + 1) * k; j++) {
        s[c]![o] = s[c]![o]! + weights[j]!;
        sumQ[o] = sumQ[o]! + weights[j]! * weights[j]!;
      }
  for (let c = 0; c < cin; c++) for (let o = 0; o < cout; o++) sumS[o] = sumS[o]! + s[c]![o]!;
  const bias = b ? await read(b, signal) : new Float64Array(cout);
  const mus = await read(mu, signal);
  const mean = leastSquares(
    s,
    mus.map((m, o) => m - bias[o]!),
  );
  const [smooth, white] = nonNegative2(
    sumS.map((v) => v * v),
    sumQ,
    await read(variance, signal),
  );
  if (!mean || !mean.every(Number.isFinite) || !(smooth + white > 0) || !Number.isFinite(smooth + white))
    return fallback;
  return { input, mean, smooth, white, source: `fitted to BatchNormalization "${bn.name}"` };
}
