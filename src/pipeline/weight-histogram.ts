// A layer's weight histogram (whole tensor or one output channel): equal-width bins over the finite
// values' [min, max], or over a range the reader zoomed to (weights outside it counted below / above),
// counted by the Wasm histogram kernel. Non-finite weights are counted, never binned.
import { WeightlensError, throwIfAborted } from '../errors.js';
import type { WeightLayer } from '../analysis/layers.js';
import { channelCount, elementCount, type ChannelStatsArrays, type Kernels } from '../kernels/kernels.js';
import type { Model } from '../onnx/model.js';
import { MAX_HISTOGRAM_BINS, type HistogramRequest, type LayerHistogram } from '../report/weight-histogram.js';
import { selectLayers } from './compute-stats.js';
import { channelStatsOf, stagedParts } from './staged-parts.js';

/** Checks a request's fields before any work: typed errors naming the file, layer and weight. */
export function findHistogramLayer(model: Model, layers: WeightLayer[], request: HistogramRequest): WeightLayer {
  const [layer] = selectLayers(model, layers, request.layer);
  const file = model.fileName;
  const tensor = layer!.weight.name;
  const { bins, channel, range } = request;
  if (!(Number.isInteger(bins) && bins >= 1 && bins <= MAX_HISTOGRAM_BINS)) {
    throw new WeightlensError(
      'USAGE',
      `${file}: histogram of layer "${layer!.name}": bins must be an integer from 1 to ${MAX_HISTOGRAM_BINS}, got ${bins}`,
      { file, tensor, field: 'bins' },
    );
  }
  if (range && !(Number.isFinite(range[0]) && Number.isFinite(range[1]) && range[0] < range[1])) {
    throw new WeightlensError(
      'USAGE',
      `${file}: histogram of layer "${layer!.name}" (weight "${tensor}"): range must be two finite numbers, lowest first, got [${range.join(', ')}]`,
      { file, tensor, field: 'range' },
    );
  }
  const C = channelCount(layer!.layout);
  if (channel !== null && !(Number.isInteger(channel) && channel >= 0 && channel < C)) {
    throw new WeightlensError(
      'USAGE',
      `${file}: layer "${layer!.name}" (weight "${tensor}") has ${C} output channel${C === 1 ? '' : 's'} (0–${C - 1}): no channel ${channel}`,
      { file, tensor, field: 'channel' },
    );
  }
  return layer!;
}

export async function layerHistogram(
  model: Model,
  layers: WeightLayer[],
  request: HistogramRequest,
  { kernels, signal, chunkElements }: { kernels: Kernels; signal?: AbortSignal; chunkElements?: number },
): Promise<LayerHistogram> {
  const layer = findHistogramLayer(model, layers, request);
  const { channel, bins, range } = request;
  const { weight, layout } = layer;
  return kernels.exclusive(async () => {
    throwIfAborted(signal, model.fileName);
    const parts = stagedParts(kernels, weight, layout, { file: model.fileName, signal, chunkElements });
    const [lo, hi] = range ?? finiteRange(await channelStatsOf(kernels, parts, layout), channel);
    const h = { counts: new Array<number>(bins).fill(0), below: 0, above: 0, nonFinite: 0 };
    await parts((staged, chunk) => {
      // A chunk holds channels chunk.channel … + its own count: one channel is counted where it is.
      const at = channel === null ? -1 : channel - chunk.channel;
      if (channel !== null && (at < 0 || at >= channelCount(chunk.layout))) return;
      const part = kernels.histogram(staged, chunk.layout, at, lo, hi, bins);
      part.counts.forEach((n, i) => (h.counts[i]! += n));
      h.below += part.below;
      h.above += part.above;
      h.nonFinite += part.nonFinite;
    });
    return {
      file: model.fileName,
      layer: layer.name,
      weight: weight.name,
      channel,
      lo: lo + 0,
      hi: hi + 0,
      counts: h.counts,
      elements: channel === null ? elementCount(layout) : elementCount(layout) / channelCount(layout),
      nonFinite: h.nonFinite,
      below: h.below,
      above: h.above,
      zoomed: Boolean(range),
    };
  });
}

/**
 * The finite min and max of the whole weight, or of one channel, from its statistics (exact edges);
 * [0, 0] when nothing is finite (every element is then non-finite).
 */
function finiteRange(stats: ChannelStatsArrays, channel: number | null): [number, number] {
  let lo = Infinity,
    hi = -Infinity;
  for (let c = channel ?? 0; c < (channel === null ? stats.min.length : channel + 1); c++) {
    if (Number.isFinite(stats.min[c]!)) lo = Math.min(lo, stats.min[c]!);
    if (Number.isFinite(stats.max[c]!)) hi = Math.max(hi, stats.max[c]!);
  }
  return lo > hi ? [0, 0] : [lo, hi];
}
