// Compressibility of every weight layer (docs/definitions.md, "Compressibility"): the singular values of the
// weight as Weight SVD and Spatial SVD factorize it (Wasm, kernels/svd-kernels.ts), the curves of parameter
// ratio against relative weight error for both and for magnitude and channel pruning, and the best choice per
// layer within a given error. Data-free; weight-space error, not accuracy.
import {
  channelPruningCurve,
  effectiveRank,
  factorizationCurve,
  rankForEnergy,
  unstructuredPruningCurve,
} from '../analysis/compression.js';
import { findWeightLayers, type WeightLayer } from '../analysis/layers.js';
import { throwIfAborted } from '../errors.js';
import { Kernels } from '../kernels/kernels.js';
import { MAX_GRAM_SIDE, SvdKernels, spatialMatrix } from '../kernels/svd-kernels.js';
import { CHUNK_ELEMENTS } from '../kernels/tensor-chunks.js';
import type { Model } from '../onnx/model.js';
import type { Progress } from '../progress.js';
import { bestChoice } from '../report/compress-choice.js';
import type { CompressReport, FactorizationFigures, LayerCompressibility } from '../report/compress-report.js';
import type { StatsReport } from '../report/stats-report.js';

export interface CompressOptions {
  kernels?: Kernels;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
  /** The relative weight error each layer's best choice is taken within (default 0.05). */
  error?: number;
  /** The model's statistics with `quant`: INT8/INT4 reference errors (absent: none given). */
  stats?: StatsReport;
}

export const DEFAULT_COMPRESS_ERROR = 0.05;

/** The two matrices a layer's weight is viewed as, or why not. */
function matrixViews(layer: WeightLayer): { weight?: [number, number]; spatial?: [number, number]; why?: string } {
  const shape = layer.weight.shape;
  const rest = (from: number) => shape.slice(from).reduce((a, b) => a * b, 1);
  switch (layer.op) {
    case 'Conv':
    case 'ConvTranspose':
      if (layer.groups !== 1)
        return { why: `a grouped ${layer.op} (${layer.groups} groups) factorizes group by group` };
      return {
        weight: [shape[0]!, rest(1)],
        ...(layer.op === 'Conv' && shape.length === 4 && shape[2]! * shape[3]! > 1
          ? { spatial: [shape[0]! * shape[2]!, shape[1]! * shape[3]!] as [number, number] }
          : {}),
      };
    case 'Gemm':
    case 'MatMul':
    case 'Gather':
      if (shape.length !== 2) return { why: `its weight has shape [${shape.join(', ')}], not a matrix` };
      return { weight: [shape[0]!, shape[1]!] };
    default:
      return { why: `${layer.op} weights are not factorized here` };
  }
}

/** Singular values and curves of the weight `values` viewed as [rows, cols] (staged in Wasm memory). */
async function factorization(
  kernels: Kernels,
  svd: SvdKernels,
  layer: WeightLayer,
  [rows, cols]: [number, number],
  fill: (dest: Float32Array) => void,
): Promise<FactorizationFigures> {
  const sigma = await kernels.exclusive(async () => {
    const staged = await kernels.stage(rows * cols, fill, { tensor: layer.weight.name });
    return svd.singularValues(staged, rows, cols);
  });
  return {
    rows,
    cols,
    singularValues: Array.from(sigma),
    rank99: rankForEnergy(sigma, 0.99),
    effectiveRank: effectiveRank(sigma),
    curve: factorizationCurve(sigma, rows * cols, (k) => k * (rows + cols)),
  };
}

/** Σ|w| and Σw² of each input (reduction) channel: the rows of the layer's block layout. */
function inputChannelNorms(layer: WeightLayer, w: Float32Array): { l1: Float64Array; squares: Float64Array } {
  const { rows, cols } = layer.blocks;
  const l1 = new Float64Array(rows);
  const squares = new Float64Array(rows);
  for (let i = 0; i < w.length; i++) {
    const r = Math.floor(i / cols) % rows;
    l1[r] = l1[r]! + Math.abs(w[i]!);
    squares[r] = squares[r]! + w[i]! * w[i]!;
  }
  return { l1, squares };
}

/** Relative error of a quantization from its SQNR (dB): 10^(−SQNR/20); 0 when exact. */
const errorOfSqnr = (sqnr: number | null | undefined) =>
  sqnr === undefined ? null : sqnr === null ? 0 : Math.pow(10, -sqnr / 20);

async function layerCompressibility(
  kernels: Kernels,
  svd: SvdKernels,
  layer: WeightLayer,
  error: number,
  stats: StatsReport | undefined,
  signal?: AbortSignal,
): Promise<LayerCompressibility> {
  const notes: string[] = [];
  const parameters = layer.weight.size;
  const quant = stats?.layers.find((l) => l.name === layer.name)?.quant;
  const base: LayerCompressibility = {
    name: layer.name,
    op: layer.op,
    shape: [...layer.weight.shape],
    parameters,
    weightSvd: null,
    spatialSvd: null,
    pruning: null,
    channelPruning: null,
    int8Error: errorOfSqnr(quant?.int8.symmetric.perChannel),
    int4Error: errorOfSqnr(quant?.int4.symmetric.perChannel),
    best: { method: null, ratio: 1, error: 0, parameters },
    notes,
  };
  if (parameters > CHUNK_ELEMENTS) {
    notes.push(`its ${parameters} weights are more than one chunk (${CHUNK_ELEMENTS}) held whole`);
    return base;
  }
  const w = new Float32Array(parameters);
  await layer.weight.readFloat32Into(w, signal);
  if (!w.every(Number.isFinite)) {
    notes.push('its weight holds NaN or ±Inf');
    return base;
  }
  base.pruning = unstructuredPruningCurve(w);
  if (layer.groups === 1 && layer.op !== 'Gather' && layer.blocks.rows > 1) {
    const { l1, squares } = inputChannelNorms(layer, w);
    base.channelPruning = channelPruningCurve(l1, squares);
  } else notes.push('channel pruning: needs input channels of an ungrouped layer');
  const views = matrixViews(layer);
  if (views.why) notes.push(`SVD: ${views.why}`);
  for (const [key, view] of [
    ['weightSvd', views.weight],
    ['spatialSvd', views.spatial],
  ] as const) {
    if (!view) continue;
    if (Math.min(...view) > MAX_GRAM_SIDE) {
      notes.push(
        `${key === 'weightSvd' ? 'Weight' : 'Spatial'} SVD: the [${view.join(', ')}] matrix is beyond ${MAX_GRAM_SIDE} on its smaller side`,
      );
      continue;
    }
    const shape = layer.weight.shape as [number, number, number, number];
    base[key] = await factorization(kernels, svd, layer, view, (dest) =>
      key === 'weightSvd' ? dest.set(w) : spatialMatrix(w, shape, dest),
    );
  }
  base.best = bestChoice(base, error);
  return base;
}

export async function compressibility(model: Model, options: CompressOptions = {}): Promise<CompressReport> {
  const kernels = options.kernels ?? (await Kernels.load());
  const svd = await SvdKernels.load(kernels);
  const error = options.error ?? DEFAULT_COMPRESS_ERROR;
  const layers = findWeightLayers(model);
  const total = layers.reduce((n, l) => n + l.weight.size, 0);
  const out: LayerCompressibility[] = [];
  let done = 0;
  for (const layer of layers) {
    throwIfAborted(options.signal, model.fileName);
    options.onProgress?.({ fraction: total ? done / total : 0, text: `compressibility of ${layer.name}` });
    out.push(await layerCompressibility(kernels, svd, layer, error, options.stats, options.signal));
    done += layer.weight.size;
  }
  options.onProgress?.({ fraction: 1, text: 'compressibility done' });
  return {
    file: model.fileName,
    error,
    layers: out,
    parameters: {
      before: out.reduce((n, l) => n + l.parameters, 0),
      after: out.reduce((n, l) => n + l.best.parameters, 0),
    },
  };
}
