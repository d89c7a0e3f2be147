// Two versions of a model compared weight by weight (docs/definitions.md, "Comparing two models"): layers
// matched (analysis/layer-matching.ts), each side's statistics as `stats` computes them, and one pass over
// both weights together for what only the pair can tell: the relative change, the SQNR of `after` against
// `before`, and the channels that flipped. A quantized side (QDQ, QOperator, MatMulNBits…) reads as its
// dequantized weights, so a float model against its quantized export gives each layer's real error. A
// BatchNorm folded on one side only is folded into the other side's view for the comparison.
import { matchLayers, signatureOf, type LayerMatch } from '../analysis/layer-matching.js';
import { findWeightLayers, type WeightLayer } from '../analysis/layers.js';
import { throwIfAborted } from '../errors.js';
import { Kernels } from '../kernels/kernels.js';
import { CHUNK_ELEMENTS, tensorChunks } from '../kernels/tensor-chunks.js';
import type { Model, TensorRef } from '../onnx/model.js';
import type { Progress } from '../progress.js';
import type { DiffLayer, DiffReport } from '../report/diff-report.js';
import type { LayerReport } from '../report/stats-report.js';
import { foldedLayer } from './batchnorm-view.js';
import { computeStats } from './compute-stats.js';

export interface DiffOptions {
  kernels?: Kernels;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
  /** The most elements of each weight read at once (default CHUNK_ELEMENTS). */
  chunkElements?: number;
}

/** What one pass over both weights gives. */
interface PairSums {
  signal: number;
  noise: number;
  finite: boolean;
  flipped: number[];
}

/** Elements [first, first + count) of `t`: a range read, or the whole tensor (then one chunk is all of it). */
const readPart = (t: TensorRef, first: number, count: number, dest: Float32Array, signal?: AbortSignal) =>
  t.readFloat32Range ? t.readFloat32Range(first, count, dest, signal) : t.readFloat32Into(dest, signal);

/** Σ before², Σ(after − before)² and each channel's before·after, chunk by chunk over both weights. */
async function pairSums(a: WeightLayer, b: WeightLayer, chunkElements: number, signal?: AbortSignal) {
  const layout = a.layout;
  const ranged = !!a.weight.readFloat32Range && !!b.weight.readFloat32Range;
  const size = a.weight.size;
  const dot = new Float64Array(layout.groups * layout.cg);
  const sums: PairSums = { signal: 0, noise: 0, finite: true, flipped: [] };
  const x = new Float32Array(ranged ? Math.min(size, chunkElements) : size);
  const y = new Float32Array(x.length);
  for (const chunk of tensorChunks(layout, ranged ? chunkElements : size)) {
    throwIfAborted(signal, a.weight.name);
    const [xs, ys] = [x.subarray(0, chunk.count), y.subarray(0, chunk.count)];
    await readPart(a.weight, chunk.first, chunk.count, xs, signal);
    await readPart(b.weight, chunk.first, chunk.count, ys, signal);
    const { cg, inner } = chunk.layout;
    for (let j = 0; j < chunk.count; j++) {
      const [u, v] = [xs[j]!, ys[j]!];
      const channel = chunk.channel + (Math.floor(j / inner) % cg);
      dot[channel] = dot[channel]! + u * v;
      sums.signal += u * u;
      sums.noise += (v - u) * (v - u);
    }
  }
  sums.finite = Number.isFinite(sums.signal) && Number.isFinite(sums.noise);
  dot.forEach((d, c) => d < 0 && sums.flipped.push(c));
  return sums;
}

const minus = (a: readonly number[], b: readonly number[]) => {
  const drop = new Set(b);
  return a.filter((c) => !drop.has(c));
};

export async function diffModels(before: Model, after: Model, options: DiffOptions = {}): Promise<DiffReport> {
  const { signal } = options;
  const kernels = options.kernels ?? (await Kernels.load());
  const [layersA, layersB] = [findWeightLayers(before), findWeightLayers(after)];
  const matching = matchLayers(layersA.map(signatureOf), layersB.map(signatureOf));
  // Each pair's two views: a BatchNorm one side still has is folded into that side's weight.
  const views: { pair: LayerMatch; a: WeightLayer; b: WeightLayer; folded?: DiffLayer['folded'] }[] = [];
  const notFolded: DiffReport['notFolded'] = [];
  for (const pair of matching.pairs) {
    let [a, b] = [layersA[pair.before]!, layersB[pair.after]!];
    let folded: DiffLayer['folded'];
    const side = a.batchNorm && !b.batchNorm ? 'before' : b.batchNorm && !a.batchNorm ? 'after' : undefined;
    if (side) {
      const view = await foldedLayer(side === 'before' ? before : after, side === 'before' ? a : b, signal);
      if ('reason' in view) notFolded.push({ layer: side === 'before' ? a.name : b.name, reason: view.reason });
      else {
        folded = { side, batchNorm: view.batchNorm };
        if (side === 'before') a = view.layer;
        else b = view.layer;
      }
    }
    views.push({ pair, a, b, ...(folded ? { folded } : {}) });
  }
  const report = (p: number, text: string) => options.onProgress?.({ fraction: p, text });
  const statsOf = async (model: Model, layers: WeightLayer[], from: number) => {
    const stats = await computeStats(model, {
      layers,
      kernels,
      quant: true,
      ...(signal ? { signal } : {}),
      ...(options.chunkElements ? { chunkElements: options.chunkElements } : {}),
      onProgress: (p) => report(from + 0.4 * p.fraction, `${model.fileName}: ${p.text}`),
    });
    return stats.layers;
  };
  const statsA: LayerReport[] = await statsOf(
    before,
    views.map((v) => v.a),
    0,
  );
  const statsB: LayerReport[] = await statsOf(
    after,
    views.map((v) => v.b),
    0.4,
  );
  const layers: DiffLayer[] = [];
  const chunk = options.chunkElements ?? CHUNK_ELEMENTS;
  for (const [k, { pair, a, b, folded }] of views.entries()) {
    report(0.8 + (0.2 * k) / views.length, `comparing ${a.name}`);
    const [sa, sb] = [statsA[k]!, statsB[k]!];
    const shapeChanged = a.weight.shape.join() !== b.weight.shape.join();
    const sums = shapeChanged ? undefined : await pairSums(a, b, chunk, signal);
    const compared = sums?.finite ? sums : undefined;
    layers.push({
      before: a.name,
      after: b.name,
      op: a.op,
      matchedBy: pair.by,
      ...(folded ? { folded } : {}),
      shapeChanged,
      relativeChange: compared && compared.signal > 0 ? Math.sqrt(compared.noise / compared.signal) : null,
      sqnr:
        compared && compared.noise > 0 && compared.signal > 0
          ? 10 * Math.log10(compared.signal / compared.noise)
          : null,
      flippedChannels: sums?.flipped ?? [],
      diedChannels: minus(sb.deadChannels, sa.deadChannels),
      revivedChannels: minus(sa.deadChannels, sb.deadChannels),
      beforeStats: sa,
      afterStats: sb,
    });
  }
  report(1, 'compared');
  return {
    before: before.fileName,
    after: after.fileName,
    layers,
    onlyBefore: matching.onlyBefore.map((i) => layersA[i]!.name),
    onlyAfter: matching.onlyAfter.map((i) => layersB[i]!.name),
    notFolded,
  };
}
