// Colours of the kit's charts: CSS variables, so a page themes them (and light/dark switch) without
// re-plotting. The elements set the private --_* from the public --wl-*; outside an element the fallbacks apply.
export const colors = {
  range: 'var(--_range-color, #3f6fc6)',
  mean: 'var(--_mean-color, #1d2b44)',
  outlier: 'var(--_outlier-color, #c8341e)',
  fence: 'var(--_fence-color, #b8860b)',
  /** Dead channels (range at most 1e-4 of the layer's largest). */
  dead: 'var(--_dead-color, #8c959f)',
  bar: 'var(--_bar-color, #3f6fc6)',
  /** <cle-compare>: before CLE (dotted), after CLE (solid) and the change between them (shaded). */
  before: 'var(--_before-color, #6e7781)',
  after: 'var(--_after-color, #0969da)',
  change: 'var(--_change-color, #d4a72c)',
  /** <quant-error-plot>: per-tensor, per-channel and per-group SQNR, and the gap between the first two. */
  perTensor: 'var(--_per-tensor-color, #bc4c00)',
  perChannel: 'var(--_per-channel-color, #0969da)',
  perGroup: 'var(--_per-group-color, #8250df)',
  gap: 'var(--_gap-color, #8c959f)',
  /** <weight-range-plot>: a quantized model's own clipping range per channel. */
  modelRange: 'var(--_model-range-color, #8250df)',
  /** <weight-histogram>: the quantizer's clipping range and grid levels. */
  clip: 'var(--_clip-color, #bc4c00)',
  gridLevel: 'var(--_grid-level-color, #8250df)',
  /** <compressibility-plot>: the four methods' curves. */
  weightSvd: 'var(--_weight-svd-color, #0969da)',
  spatialSvd: 'var(--_spatial-svd-color, #8250df)',
  pruning: 'var(--_pruning-color, #bc4c00)',
  channelPruning: 'var(--_channel-pruning-color, #1a7f37)',
} as const;

/** Plot's inline style for every chart: inherit the host's font and colour. */
export const chartStyle = { background: 'transparent', color: 'currentColor', fontSize: '12px', overflow: 'visible' };
