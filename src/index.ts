// The public API of weightlens for browsers, Workers and Node (Node-only helpers: 'weightlens/node').
// Importing this module touches no DOM, Worker or Wasm: everything starts when a function is called.
export { WeightlensError, type WeightlensErrorCode } from './errors.js';
export { openModel, type OpenOptions, type OpenProgress, type ModelSource } from './onnx/open.js';
export { filesSource, urlSource, type ExternalDataSource, type ExternalFile } from './onnx/external-data.js';
export type { Model, Graph, Node, TensorRef, DTypeName, AttributeValue } from './onnx/model.js';
export { findWeightLayers, type WeightLayer, type WeightOp } from './analysis/layers.js';
export { channelLabel, type RecurrentCell, type RecurrentWeights } from './analysis/recurrent.js';
export { relativeRanges, outlierChannels, tukeyFence, quantile, type TukeyFence } from './analysis/relative-range.js';
export {
  Kernels,
  type ChannelLayout,
  type ChannelStatsArrays,
  type HistogramCounts,
  type StagedTensor,
} from './kernels/kernels.js';
export { computeStats, type StatsOptions, type StatsProgress } from './pipeline/compute-stats.js';
export type { StatsReport, LayerReport, ChannelStats, ModelSummary, ModelQuantization } from './report/stats-report.js';
export type { QuantReport, QuantSchemes, QuantFigures } from './report/quant-error.js';
export { equalizeModel, type EqualizeOptions } from './pipeline/equalize-model.js';
export {
  quantizeModel,
  type QuantizeOptions,
  type QuantizeOutcome,
  type QuantizeReport,
  type QuantizedLayer,
} from './pipeline/quantize-model.js';
export { auditModel, type AuditOptions } from './pipeline/audit-model.js';
export { diffModels, type DiffOptions } from './pipeline/diff-models.js';
export { compressibility, type CompressOptions } from './pipeline/compressibility.js';
export {
  factorizeLayer,
  type FactorizeOptions,
  type FactorizeOutcome,
  type FactorizeReport,
  type FactorizationMethod,
} from './pipeline/factorize-layer.js';
export type { CompressReport, LayerCompressibility, FactorizationFigures } from './report/compress-report.js';
export { compressReportAt, bestChoice, rankedBySaving, type BestChoice } from './report/compress-choice.js';
export type { CompressionPoint } from './analysis/compression.js';
export type { DiffReport, DiffLayer } from './report/diff-report.js';
export type { MatchMethod } from './analysis/layer-matching.js';
export type {
  AuditReport,
  AuditFormat,
  LayerAudit,
  BiasAudit,
  FloatAudit,
  CodeFigures,
  BlockFigures,
  ScaleFigures,
} from './report/audit-report.js';
export { checkPlan, type QuantPlan, type LayerChoice } from './quant/plan.js';
export type { Budget, FrontPoint } from './quant/planner.js';
export type { PlanReport, UniformPlan } from './pipeline/plan-quantization.js';
export type { BiasCorrectionReport, CorrectedLayer } from './quant/bias-correction.js';
export { checkScheme, schemeName, type QuantScheme, type Granularity } from './quant/scheme.js';
export type { CleOptions, CleReport, CleLayerChange, CleOutcome } from './report/cle-report.js';
export { layerHistogram } from './pipeline/weight-histogram.js';
export { MAX_HISTOGRAM_BINS, type HistogramRequest, type LayerHistogram } from './report/weight-histogram.js';
export {
  toNetronAttachment,
  toModelExplorerNodeData,
  type NetronAttachment,
  type ModelExplorerNodeData,
} from './report/interop.js';
export { VERSION } from './version.js';
