// The statistics results: what computeStats (src/pipeline/compute-stats.ts) returns and `weightlens stats
// --json` writes, JSON-ready (null where a figure is not finite).
import type { RecurrentWeights } from '../analysis/recurrent.js';
import type { RangeFigures } from '../analysis/relative-range.js';
import type { DTypeName } from '../onnx/model.js';
import type { QuantReport } from './quant-error.js';

/** Per-output-channel figures; null where a channel has no finite value. */
export interface ChannelStats {
  min: (number | null)[];
  max: (number | null)[];
  mean: (number | null)[];
  std: (number | null)[];
  absMax: (number | null)[];
}

export interface NonFiniteCounts {
  nan: number;
  posInf: number;
  negInf: number;
}

/** A weight layer's results; the range figures (relative ranges, dead channels, outliers) as RangeFigures. */
export interface LayerReport extends RangeFigures {
  name: string;
  op: string;
  weight: string;
  graph: string;
  dtype: DTypeName;
  shape: number[];
  channelAxis: number | null;
  groups: number;
  depthwise: boolean;
  bias: string | null;
  batchNorm: string | null;
  overridable: boolean;
  parameters: number;
  channels: ChannelStats;
  /** NaN + ±Inf elements in the weight. */
  nonFinite: number;
  nonFiniteCounts: NonFiniteCounts;
  /** With the quant option: SQNR (dB) of the fake-quantized weight; null if it holds NaN/±Inf. */
  quant?: QuantReport | null;
  /** Weights stored quantized (QDQ, QOperator): the model's own scales and zero points, beside our statistics. */
  modelQuantization?: ModelQuantization;
  /** What the figures mean where that is not obvious (e.g. integer units, a bias not dequantized). */
  notes?: string[];
  /** LSTM/GRU/RNN W or R: channel d·G·H + r is direction d, gate gates[⌊r/H⌋], unit r mod H (see channelLabel). */
  recurrent?: RecurrentWeights;
}

export interface ModelQuantization {
  dtype: DTypeName;
  mode: 'tensor' | 'axis' | 'blocked';
  axis: number | null;
  blockSize: number;
  /** null: the op carries no weight scale (ConvInteger, MatMulInteger), statistics are in integer units. */
  scales: number[] | null;
  zeroPoints: number[] | null;
}

export interface ModelSummary {
  irVersion: number;
  producer: string;
  producerVersion: string;
  opsets: Record<string, number>;
  /** Elements of every floating-point constant tensor in all graphs, except quantization scales. */
  parameters: number;
  /** Elements of integer-stored weights and biases the model dequantizes (QDQ, QOperator); not in `parameters`. */
  quantizedParameters: number;
}

export interface StatsReport {
  file: string;
  model: ModelSummary;
  layers: LayerReport[];
}
