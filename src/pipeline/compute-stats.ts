// The stats pipeline: model -> weight layers -> per-channel statistics in Wasm -> plain, JSON-ready
// results (the machine form of `weightlens stats --json`). One tensor is staged at a time.
import { throwIfAborted, WeightlensError } from '../errors.js';
import { findWeightLayers, type WeightLayer } from '../analysis/layers.js';
import { countParameters } from '../analysis/parameter-count.js';
import { rangeFigures } from '../analysis/relative-range.js';
import { Kernels, type ChannelStatsArrays } from '../kernels/kernels.js';
import type { Model, TensorRef } from '../onnx/model.js';
import type { LayerReport, ModelSummary, StatsReport } from '../report/stats-report.js';
import type { Progress } from '../progress.js';
import { quantReport } from './quant-error.js';
import { channelStatsOf, stagedBlockParts, stagedParts } from './staged-parts.js';

/** `fraction` is weighted by the layers' element counts: one fc layer can outweigh 20 convs. */
export interface StatsProgress extends Progress {
  phase: 'stats';
  done: number;
  total: number;
  layer: string;
}

export interface StatsOptions {
  /** Only the layer with this name (node name, first output or weight name). */
  layer?: string;
  /** The layers to measure, in place of the model's own (e.g. a view with a BatchNorm folded in). */
  layers?: readonly WeightLayer[];
  kernels?: Kernels;
  signal?: AbortSignal;
  onProgress?: (p: StatsProgress) => void;
  /** Also the INT8/INT4 quantization error of every weight (adds `quant` to each layer). */
  quant?: boolean;
  /** With `quant`: the block sizes of the per-group figures (default DEFAULT_BLOCKS: 32, 64, 128). */
  blocks?: readonly number[];
  /**
   * The most weight elements staged in WebAssembly memory at once (default CHUNK_ELEMENTS, 32M: 128 MB).
   * Larger weights stored as values (raw or external data) are read and reduced chunk by chunk.
   */
  chunkElements?: number;
  /**
   * Reports already known for some layers, by layer name (e.g. the layers CLE left as they were): used as
   * they are, their weights are not read again.
   */
  known?: ReadonlyMap<string, LayerReport>;
}

export function summarizeModel(model: Model): ModelSummary {
  return {
    irVersion: model.irVersion,
    producer: model.producer,
    producerVersion: model.producerVersion,
    opsets: { ...model.opsets },
    ...countParameters(model),
  };
}

export function selectLayers(model: Model, layers: WeightLayer[], name: string | undefined): WeightLayer[] {
  if (name === undefined) return layers;
  // A recurrent node's name or output selects both its layers (W and R); "<node>/W" selects one.
  const chosen = layers.filter(
    (l) => l.name === name || l.node.name === name || l.node.outputs[0] === name || l.weight.name === name,
  );
  if (chosen.length === 0) {
    const some = layers
      .slice(0, 5)
      .map((l) => `"${l.name}"`)
      .join(', ');
    throw new WeightlensError(
      'LAYER_NOT_FOUND',
      `${model.fileName}: no weight layer named "${name}" (${layers.length} layers, e.g. ${some})`,
      {
        file: model.fileName,
      },
    );
  }
  return chosen;
}

/** Statistics for every weight layer of the model (or the one named in options.layer). */
export async function computeStats(model: Model, options: StatsOptions = {}): Promise<StatsReport> {
  const kernels = options.kernels ?? (await Kernels.load());
  const layers = selectLayers(model, [...(options.layers ?? findWeightLayers(model))], options.layer);
  const reports: LayerReport[] = [];
  const before = [0];
  for (const layer of layers) before.push(before.at(-1)! + layer.weight.size);
  /** Layer `done` is `within` (0..1) done: a weight read in chunks moves the fraction as it goes. */
  const progress = (done: number, layer: string, within = 0) =>
    within < 1 && // a layer's end is the next one's start
    options.onProgress?.({
      phase: 'stats',
      done,
      total: layers.length,
      layer,
      fraction: before.at(-1) ? (before[done]! + (within && within * layers[done]!.weight.size)) / before.at(-1)! : 1,
      text: `statistics ${done} / ${layers.length} layers`,
    });
  for (const [i, layer] of layers.entries()) {
    throwIfAborted(options.signal, model.fileName);
    progress(i, layer.name);
    const known = options.known?.get(layer.name);
    if (known) {
      reports.push(known);
      continue;
    }
    const quantization = layer.weight.quantization;
    const modelQuantization = quantization && {
      dtype: layer.weight.dtype,
      mode: quantization.mode,
      axis: quantization.axis,
      blockSize: quantization.blockSize,
      scales: quantization.scale ? Array.from(await readValues(quantization.scale, options.signal)) : null,
      zeroPoints: quantization.zeroPoint ? Array.from(await readValues(quantization.zeroPoint, options.signal)) : null,
    };
    const report = await kernels.exclusive(async () => {
      // A chunked weight is read once per pass: statistics, then the quantization error.
      const passes = options.quant ? 2 : 1;
      let pass = 0;
      const staging = { file: model.fileName, signal: options.signal, chunkElements: options.chunkElements };
      const parts = stagedParts(kernels, layer.weight, layer.layout, {
        ...staging,
        onChunk: (done) => progress(i, layer.name, (pass + done / layer.weight.size) / passes),
      });
      const stats = await channelStatsOf(kernels, parts, layer.layout);
      const r = layerReport(layer, stats);
      pass = 1;
      if (options.quant) {
        const blockParts = stagedBlockParts(kernels, layer.weight, layer.layout, layer.blocks, parts, staging);
        r.quant = await quantReport(kernels, parts, stats, r.nonFinite, blockParts, options.blocks);
      }
      if (modelQuantization) r.modelQuantization = modelQuantization;
      if (layer.notes) r.notes = [...layer.notes];
      return r;
    });
    reports.push(report);
  }
  progress(layers.length, '');
  return { file: model.fileName, model: summarizeModel(model), layers: reports };
}

// `v + 0` turns -0 into 0: JSON has no -0, and results must survive a JSON round trip unchanged.
/** A small constant's values (scales, zero points) as numbers. */
async function readValues(t: TensorRef, signal: AbortSignal | undefined): Promise<Float32Array> {
  const values = new Float32Array(t.size);
  await t.readFloat32Into(values, signal);
  return values;
}

/** A loop, not Array.from with a mapper: this runs five times per layer, over up to 2^20 channels. */
function finiteOrNull(values: ArrayLike<number>): (number | null)[] {
  const out = new Array<number | null>(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    out[i] = Number.isFinite(v) ? v + 0 : null;
  }
  return out;
}
const sum = (values: ArrayLike<number>) => {
  let total = 0;
  for (let i = 0; i < values.length; i++) total += values[i]!;
  return total;
};

export function layerReport(layer: WeightLayer, s: ChannelStatsArrays): LayerReport {
  const nonFiniteCounts = { nan: sum(s.nan), posInf: sum(s.posInf), negInf: sum(s.negInf) };
  return {
    name: layer.name,
    op: layer.op,
    weight: layer.weight.name,
    graph: layer.graph,
    dtype: layer.weight.dtype,
    shape: [...layer.weight.shape],
    channelAxis: layer.channelAxis,
    groups: layer.groups,
    depthwise: layer.depthwise,
    bias: layer.bias?.name ?? null,
    batchNorm: layer.batchNorm?.name ?? null,
    overridable: layer.overridable,
    parameters: layer.weight.size + (layer.bias?.size ?? 0),
    channels: {
      min: finiteOrNull(s.min),
      max: finiteOrNull(s.max),
      mean: finiteOrNull(s.mean),
      std: finiteOrNull(s.std),
      absMax: finiteOrNull(s.absMax),
    },
    ...rangeFigures(s.min, s.max),
    nonFinite: nonFiniteCounts.nan + nonFiniteCounts.posInf + nonFiniteCounts.negInf,
    nonFiniteCounts,
    ...(layer.recurrent ? { recurrent: { ...layer.recurrent, gates: [...layer.recurrent.gates] } } : {}),
  };
}
