// A weight layer seen with the BatchNormalization after it folded in, without changing the model: its
// weight reads as W·γ/σ per output channel (σ = sqrt(var + ε)), the weight an exporter that folds the
// BatchNorm writes. Comparing a model with a copy whose BatchNorms were folded needs it (docs/definitions.md,
// "Comparing two models").
import type { WeightLayer } from '../analysis/layers.js';
import { channelCount, type ChannelLayout } from '../kernels/kernels.js';
import { floatAttribute } from '../onnx/attributes.js';
import { graphAt } from '../onnx/lookup.js';
import { resolveConstant, type Model, type TensorRef } from '../onnx/model.js';

async function read(t: TensorRef, signal?: AbortSignal): Promise<Float32Array> {
  const values = new Float32Array(t.size);
  await t.readFloat32Into(values, signal);
  return values;
}

/** Multiplies `values`, elements first… of a tensor laid out as `layout`, by their channel's factor. */
function scaleByChannel(values: Float32Array, first: number, layout: ChannelLayout, factors: Float64Array): void {
  const { outer, cg, inner } = layout;
  const perGroup = outer * cg * inner;
  for (let j = 0; j < values.length; j++) {
    const i = first + j;
    const channel = Math.floor(i / perGroup) * cg + (Math.floor(i / inner) % cg);
    values[j] = values[j]! * factors[channel]!;
  }
}

/** `weight` as it reads with each output channel multiplied by its factor. */
function scaledWeight(weight: TensorRef, layout: ChannelLayout, factors: Float64Array): TensorRef {
  const range = weight.readFloat32Range;
  return {
    name: weight.name,
    graph: weight.graph,
    origin: weight.origin,
    dataType: weight.dataType,
    dtype: weight.dtype,
    shape: weight.shape,
    size: weight.size,
    ...(weight.external ? { external: weight.external } : {}),
    async readFloat32Into(dest, signal) {
      await weight.readFloat32Into(dest, signal);
      scaleByChannel(dest.subarray(0, weight.size), 0, layout, factors);
    },
    ...(range
      ? {
          async readFloat32Range(first: number, count: number, dest: Float32Array, signal?: AbortSignal) {
            await range.call(weight, first, count, dest, signal);
            scaleByChannel(dest.subarray(0, count), first, layout, factors);
          },
        }
      : {}),
  };
}

/**
 * `layer` with its BatchNormalization folded in, or why it cannot be: the BatchNorm's four parameters must
 * be constants of one value per output channel, and every γ/σ finite.
 */
export async function foldedLayer(
  model: Model,
  layer: WeightLayer,
  signal?: AbortSignal,
): Promise<{ layer: WeightLayer; batchNorm: string } | { reason: string }> {
  const bn = layer.batchNorm;
  if (!bn) return { reason: `${layer.name} has no BatchNormalization after it` };
  const graph = graphAt(model, bn.graph)!;
  const params = bn.inputs.slice(1, 5).map((name) => (name ? resolveConstant(graph, name) : undefined));
  const channels = channelCount(layer.layout);
  if (params.length < 4 || params.some((p) => !p || p.size !== channels))
    return { reason: `${bn.name}'s scale, bias, mean and variance are not constants of ${channels} values` };
  const epsilon = floatAttribute(bn, 'epsilon', 1e-5);
  const [gamma, , , variance] = await Promise.all(params.map((p) => read(p!, signal)));
  const factors = Float64Array.from(gamma!, (g, c) => g / Math.sqrt(variance![c]! + epsilon));
  const bad = factors.findIndex((f) => !Number.isFinite(f));
  if (bad >= 0) return { reason: `${bn.name}'s channel ${bad} has γ/sqrt(var + ε) = ${factors[bad]}` };
  const { batchNorm: _folded, ...rest } = layer;
  return { layer: { ...rest, weight: scaledWeight(layer.weight, layer.layout, factors) }, batchNorm: bn.name };
}
