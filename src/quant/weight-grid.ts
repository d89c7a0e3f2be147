// Where a layer's scales sit for a scheme, and how DequantizeLinear says so (its `axis`, `block_size` and
// the scale tensor's shape) — or why the layer cannot be quantized that way.
import type { WeightLayer } from '../analysis/layers.js';
import { gridEntries, type QuantGrid } from '../kernels/quantizer.js';
import type { QuantScheme } from './scheme.js';

/** A grid DequantizeLinear can express, with the attributes and scale shape that express it. */
export interface DequantizeGrid {
  readonly grid: QuantGrid;
  /** DequantizeLinear's axis (per-channel and per-group), undefined per tensor. */
  readonly axis?: number;
  readonly blockSize?: number;
  /** Shape of the scale (and zero-point) tensor: [] per tensor. */
  readonly scaleDims: readonly number[];
}

/** The axis a layer's blocks run along (the input axis of its BlockLayout), by the op's weight layout. */
function blockAxis(layer: WeightLayer): number {
  const rank = layer.weight.shape.length;
  if (layer.recurrent) return 2;
  switch (layer.op) {
    case 'Conv':
      return 1;
    case 'ConvTranspose':
      return 0;
    case 'Gather':
      return 1;
    case 'Gemm':
      return layer.channelAxis === 0 ? 1 : 0;
    default:
      return rank === 1 ? 0 : rank - 2;
  }
}

/** The grid of `layer` under `scheme`, or a reason it cannot be written as one DequantizeLinear. */
export function dequantizeGrid(layer: WeightLayer, scheme: QuantScheme): DequantizeGrid | { reason: string } {
  const shape = layer.weight.shape;
  const { layout, blocks } = layer;
  if (scheme.granularity === 'tensor') {
    const one = { groups: 1, outer: 1, cg: 1, inner: layer.weight.size };
    return { grid: { kind: 'channel', layout: one }, scaleDims: [] };
  }
  if (scheme.granularity === 'channel') {
    // One scale per index of the channel axis: channels must be exactly that axis (not direction × gate).
    if (layer.channelAxis === null || layout.groups !== 1)
      return { reason: `its ${layer.groups > 1 ? 'grouped ' : ''}output channels are not one axis of the weight` };
    return { grid: { kind: 'channel', layout }, axis: layer.channelAxis, scaleDims: [shape[layer.channelAxis]!] };
  }
  const block = scheme.block!;
  const axis = blockAxis(layer);
  // Blocks must not straddle the groups stacked along the axis (ConvTranspose with groups).
  if (layer.op === 'ConvTranspose' && blocks.mats > 1 && blocks.rows % block !== 0)
    return {
      reason: `its ${blocks.mats} groups of ${blocks.rows} input channels do not split into blocks of ${block}`,
    };
  const scaleDims = shape.map((d, i) => (i === axis ? Math.ceil(d / block) : d));
  const grid: QuantGrid = { kind: 'block', layout: blocks, block };
  // DequantizeLinear indexes scales as the grid does exactly when the blocked axis holds the blocks' rows.
  if (scaleDims.reduce((a, b) => a * b, 1) !== gridEntries(grid))
    return { reason: `its input axis ${axis} does not hold the ${blocks.rows} rows of its blocks` };
  return { grid, axis, blockSize: block, scaleDims };
}
