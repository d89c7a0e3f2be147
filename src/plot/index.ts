// Chart logic as pure functions: results -> Observable Plot options (no DOM until Plot.plot is called).
export { channelRows, clampDomain, channelCount, type ChannelRow, type ChannelDomain } from './channels.js';
export { weightRangePlot, weightRangeText, WEIGHT_RANGE_MARKS, type WeightRangeOptions } from './weight-ranges.js';
export {
  relativeRangePlot,
  relativeRangeText,
  RELATIVE_RANGE_MARKS,
  type RelativeRangeOptions,
} from './relative-ranges.js';
export {
  relativeRangeHistogram,
  relativeRangeHistogramText,
  HISTOGRAM_MARKS,
  type HistogramOptions,
} from './relative-range-histogram.js';
export {
  cleChannelPlot,
  cleChannelRows,
  cleChannelText,
  CLE_CHANNEL_MARKS,
  CLE_SIDES,
  channelChangeMarks,
  type CleChannelRow,
  type CleChannelOptions,
  type LayerChange,
  type SideLabels,
} from './cle-channels.js';
export {
  cleLayersPlot,
  cleLayerRows,
  cleLayersText,
  CLE_LAYER_MARKS,
  type CleLayerRow,
  type CleLayersOptions,
} from './cle-layers.js';
export {
  quantErrorPlot,
  quantErrorRows,
  quantErrorText,
  formatDb,
  hasQuantFigures,
  cleChangeText,
  cleQuantReports,
  QUANT_ERROR_MARKS,
  type QuantErrorRow,
  type BeforeFigures,
  type QuantErrorOptions,
  type QuantBits,
  type QuantScheme,
  type QuantSort,
} from './quant-error.js';
export {
  weightHistogramPlot,
  weightHistogramText,
  quantOverlay,
  histogramBins,
  gridLevels,
  WEIGHT_HISTOGRAM_MARKS,
  type QuantOverlay,
  type OverlayOptions,
  type CountScale,
  type GridGranularity,
  type HistogramBin,
  type WeightHistogramOptions,
} from './weight-histogram.js';
export { summarize, relativeRangeSummary, type Summary, type SummaryRow } from './summary.js';
export { formatNumber } from './format.js';
export { colors } from './theme.js';
