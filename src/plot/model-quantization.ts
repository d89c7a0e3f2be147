// A quantized model's own quantization (its DequantizeLinear scales and zero points, `modelQuantization` in
// the report) seen per output channel, beside the scale weightlens would choose from the channel's statistics:
// what range the model clips each channel to, and whether that fits the weights. Per-axis scales on another
// axis and blocked scales give a channel several scales: it is then shown as the envelope of their ranges.
import type { DTypeName } from '../onnx/model.js';
import type { LayerReport, ModelQuantization } from '../report/stats-report.js';

/** The integer range of a stored dtype (qmin, qmax). */
const INTEGER_RANGE: Partial<Record<DTypeName, [number, number]>> = {
  int4: [-8, 7],
  uint4: [0, 15],
  int8: [-128, 127],
  uint8: [0, 255],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-(2 ** 31), 2 ** 31 - 1],
};

/** Bits of the stored dtype, for the scale weightlens would choose at the same width. */
const BITS: Partial<Record<DTypeName, number>> = {
  int4: 4,
  uint4: 4,
  int8: 8,
  uint8: 8,
  int16: 16,
  uint16: 16,
  int32: 32,
};

/** One output channel under the model's quantization. */
export interface ChannelGrid {
  channel: number;
  /** The channel's scale and zero point; null when it has several (the envelope is shown). */
  scale: number | null;
  zeroPoint: number | null;
  /** Smallest and largest value the model can represent in this channel: (qmin − zp)·s and (qmax − zp)·s. */
  lo: number;
  hi: number;
  /** The scale weightlens would choose for this channel at the same bit width (see ModelGrid.ours). */
  ours: number | null;
}

export interface ModelGrid {
  dtype: DTypeName;
  /** How the model's scales map onto output channels, in words ("per output channel (axis 0)"). */
  granularity: string;
  /** True when every channel has exactly one scale (per-tensor, or per-axis on the output-channel axis). */
  oneScalePerChannel: boolean;
  /** How `ours` is chosen: symmetric when the model's zero points are all 0 on a signed type, else asymmetric. */
  ours: string;
  channels: ChannelGrid[];
}

/** Grids already worked out: the header, chart, readout and table of one layer all ask, on every render. */
const grids = new WeakMap<LayerReport, ModelGrid | null>();

/** The model's quantization of `layer` per output channel; null when the weight is not stored quantized with scales. */
export function modelGrid(layer: LayerReport): ModelGrid | null {
  if (!grids.has(layer)) grids.set(layer, computeGrid(layer));
  return grids.get(layer)!;
}

function computeGrid(layer: LayerReport): ModelGrid | null {
  const q = layer.modelQuantization;
  const range = q && INTEGER_RANGE[q.dtype];
  // No scales (ConvInteger, MatMulInteger): the statistics are in integer units, there is no range to compare.
  if (!q?.scales || !range) return null;
  const scales = q.scales;
  const C = layer.channels.min.length;
  const [qmin, qmax] = range;
  const scalesOf = scaleChannels(layer, q);
  const lo = new Array<number>(C).fill(Infinity),
    hi = new Array<number>(C).fill(-Infinity);
  const count = new Array<number>(C).fill(0);
  const scale = new Array<number>(C).fill(NaN),
    zeroPoint = new Array<number>(C).fill(NaN);
  scales.forEach((s, i) => {
    const zp = q.zeroPoints?.[i] ?? 0;
    for (const c of scalesOf(i)) {
      lo[c] = Math.min(lo[c]!, (qmin - zp) * s);
      hi[c] = Math.max(hi[c]!, (qmax - zp) * s);
      count[c]!++;
      [scale[c], zeroPoint[c]] = [s, zp];
    }
  });
  const symmetric = qmin < 0 && (q.zeroPoints ?? []).every((z) => z === 0);
  const bits = BITS[q.dtype]!;
  const perChannel = q.mode !== 'tensor';
  const ours = oursScales(layer, bits, symmetric, perChannel);
  return {
    dtype: q.dtype,
    granularity: granularity(layer, q),
    oneScalePerChannel: count.every((n) => n === 1),
    ours: `INT${bits} ${symmetric ? 'symmetric' : 'asymmetric'} ${perChannel ? 'per-channel' : 'per-tensor'}`,
    channels: Array.from({ length: C }, (_, c) => ({
      channel: c,
      lo: lo[c]!,
      hi: hi[c]!,
      ours: ours[c]!,
      scale: count[c] === 1 ? scale[c]! : null,
      zeroPoint: count[c] === 1 ? zeroPoint[c]! : null,
    })),
  };
}

/** For scale element i (in the order of the report's `scales`), the output channels it applies to. */
function scaleChannels(layer: LayerReport, q: ModelQuantization): (i: number) => number[] {
  const C = layer.channels.min.length;
  const all = Array.from({ length: C }, (_, c) => c);
  const axis = layer.channelAxis;
  if (q.mode === 'tensor' || q.axis === null || axis === null) return () => all;
  // The scale tensor has x's shape with q.axis shortened to its scale count (per-axis: only that dimension).
  const dims =
    q.mode === 'axis'
      ? [layer.shape[q.axis]!]
      : layer.shape.map((d, k) => (k === q.axis ? Math.ceil(d / q.blockSize) : d));
  const at = q.mode === 'axis' ? 0 : q.axis;
  const channelDim = q.mode === 'axis' ? (axis === q.axis ? 0 : -1) : axis;
  if (channelDim < 0) return () => all;
  const stride = dims.slice(channelDim + 1).reduce((a, b) => a * b, 1);
  // The channel axis holds one group's channels (grouped ConvTranspose) or one direction's (LSTM/GRU/RNN):
  // index j along it is channel g·perGroup + j of every group g.
  const perGroup = layer.shape[axis]!;
  const everyGroup = (first: number, end: number) => {
    const channels: number[] = [];
    for (let g = 0; g * perGroup < C; g++)
      for (let j = first; j < Math.min(end, perGroup); j++) channels.push(g * perGroup + j);
    return channels;
  };
  return (i) => {
    const index = Math.floor(i / stride) % dims[channelDim]!;
    // Blocks along the output-channel axis: one scale covers blockSize channels.
    if (q.mode === 'blocked' && channelDim === at) return everyGroup(index * q.blockSize, (index + 1) * q.blockSize);
    return everyGroup(index, index + 1);
  };
}

function granularity(layer: LayerReport, q: ModelQuantization): string {
  if (q.mode === 'tensor') return 'per-tensor';
  const onChannels = q.axis === layer.channelAxis;
  if (q.mode === 'axis')
    return onChannels
      ? `per output channel (axis ${q.axis})`
      : `per-axis on axis ${q.axis}, not the output-channel axis`;
  return `blocks of ${q.blockSize} along axis ${q.axis}`;
}

/** The scale weightlens would choose per channel (docs/definitions.md, as the SQNR figures use). */
function oursScales(layer: LayerReport, bits: number, symmetric: boolean, perChannel: boolean): (number | null)[] {
  const { min, max, absMax } = layer.channels;
  // reduce, not Math.max(...v): a layer may have more channels than a call takes arguments
  const extreme = (v: (number | null)[], pick: (a: number, b: number) => number) =>
    v.reduce<number>((acc, x) => (x === null ? acc : pick(acc, x)), 0);
  if (symmetric) {
    const level = 2 ** (bits - 1) - 1;
    const tensor = extreme(absMax, Math.max);
    return absMax.map((a) => (perChannel ? (a === null ? null : a / level) : tensor / level));
  }
  const levels = 2 ** bits - 1;
  const [tensorLo, tensorHi] = [extreme(min, Math.min), extreme(max, Math.max)];
  return min.map((m, c) => {
    if (!perChannel) return (tensorHi - tensorLo) / levels;
    const x = max[c]!;
    return m === null || x === null ? null : (Math.max(x, 0) - Math.min(m, 0)) / levels;
  });
}
