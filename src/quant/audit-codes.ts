// Auditing an already-quantized weight from its stored integer codes (docs/definitions.md, "Auditing a
// quantized model"): how many codes sit at the ends of their range (saturation), how many grid levels are
// used, scales that are zero, subnormal, negative or not finite, and, given the float weight, the SQNR and
// the share of float values outside what the grid can represent. Plain loops over typed arrays: counting
// codes is memory-bound and runs at several hundred MB/s of codes in Node (see the docs), well above the
// rate at which the codes are decoded from the file.
import type { ChannelLayout } from '../kernels/kernels.js';
import { DT } from '../onnx/dtypes.js';

/** An integer type codes are stored in. */
export interface CodeType {
  readonly bits: number;
  readonly signed: boolean;
  /** The type's own smallest and largest value (int8: −128, 127). */
  readonly min: number;
  readonly max: number;
}

const TYPES = new Map<number, CodeType>(
  (
    [
      [DT.INT4, 4, true],
      [DT.UINT4, 4, false],
      [DT.INT8, 8, true],
      [DT.UINT8, 8, false],
      [DT.INT16, 16, true],
      [DT.UINT16, 16, false],
      [DT.INT32, 32, true],
    ] as const
  ).map(([dt, bits, signed]) => [
    dt,
    { bits, signed, min: signed ? -(2 ** (bits - 1)) : 0, max: signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1 },
  ]),
);

/** The integer type of `dataType`, or undefined when it is not one codes are stored in. */
export const codeType = (dataType: number): CodeType | undefined => TYPES.get(dataType);

/**
 * How scale units (one scale and zero point each) fall on the weight seen as [outer, axisLen, inner]:
 * 'tensor' one unit, 'axis' one per index of the axis, 'blocked' one per block of `blockSize` along the axis
 * and per other index (the scale tensor has the weight's shape with the axis counted in blocks).
 */
export interface UnitLayout {
  readonly mode: 'tensor' | 'axis' | 'blocked';
  readonly outer: number;
  readonly axisLen: number;
  readonly inner: number;
  readonly blockSize: number;
  readonly blocks: number;
}

export function unitLayout(
  shape: readonly number[],
  q: { mode: 'tensor' | 'axis' | 'blocked'; axis: number | null; blockSize: number },
): UnitLayout {
  const size = shape.reduce((a, b) => a * b, 1);
  if (q.mode === 'tensor' || q.axis === null)
    return { mode: 'tensor', outer: 1, axisLen: size, inner: 1, blockSize: 0, blocks: 0 };
  const axis = q.axis;
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const axisLen = shape[axis] ?? 1;
  if (q.mode === 'axis') return { mode: 'axis', outer, axisLen, inner, blockSize: 0, blocks: 0 };
  return { mode: 'blocked', outer, axisLen, inner, blockSize: q.blockSize, blocks: Math.ceil(axisLen / q.blockSize) };
}

export const unitCount = (u: UnitLayout) =>
  u.mode === 'tensor' ? 1 : u.mode === 'axis' ? u.axisLen : u.outer * u.blocks * u.inner;

/** Per channel or per unit: codes at the range's two ends, elements, and distinct codes (null: not counted). */
export interface CodeCounts {
  readonly atMin: Uint32Array;
  readonly atMax: Uint32Array;
  readonly elements: Uint32Array;
  readonly levels: Uint32Array | null;
}

export interface CodeAudit {
  /** The range saturation is measured against: the type's, or the restricted symmetric one. */
  readonly qmin: number;
  readonly qmax: number;
  /** Signed codes with every zero point 0 and none at the type's minimum: [−(2^(b−1)−1), 2^(b−1)−1]. */
  readonly restricted: boolean;
  readonly atMin: number;
  readonly atMax: number;
  /** Distinct codes in the whole tensor (null for 32-bit codes). */
  readonly levels: number | null;
  readonly channels: CodeCounts;
  readonly units: CodeCounts;
}

/** The most bytes of per-channel (or per-unit) code histograms before distinct codes are not counted per unit. */
const MAX_HISTOGRAM_BYTES = 64 << 20;

/**
 * One histogram of codes per channel (`unit` = channel) or per scale unit: element i adds 1 at
 * [unitOf(i)·L + code − type.min]. Plain nested loops (no call per element): this is the hot loop.
 */
type Counters = Uint8Array | Uint16Array | Uint32Array;

/** Counters for `n` bins that never exceed `most`: the narrowest type keeps the histograms in cache. */
const counters = (n: number, most: number): Counters =>
  most < 2 ** 8 ? new Uint8Array(n) : most < 2 ** 16 ? new Uint16Array(n) : new Uint32Array(n);

function channelHistograms(codes: Float32Array | Float64Array, min: number, l: ChannelLayout, L: number): Counters {
  const { groups, outer, cg, inner } = l;
  const hist = counters(groups * cg * L, outer * inner);
  if (inner === 1 && cg > TILE) {
    // Channels along the last axis (MatMul [K, N]): TILE columns at a time over every row, so the histograms
    // being filled stay in cache instead of one cache line per element.
    for (let g = 0; g < groups; g++)
      for (let c0 = 0; c0 < cg; c0 += TILE) {
        const c1 = Math.min(c0 + TILE, cg);
        for (let o = 0; o < outer; o++) {
          const row = (g * outer + o) * cg;
          for (let c = c0; c < c1; c++) hist[(g * cg + c) * L - min + codes[row + c]!]!++;
        }
      }
    return hist;
  }
  let i = 0;
  for (let g = 0; g < groups; g++)
    for (let o = 0; o < outer; o++)
      for (let c = 0; c < cg; c++) {
        const base = (g * cg + c) * L - min;
        for (let end = i + inner; i < end; i++) hist[base + codes[i]!]!++;
      }
  return hist;
}

/** Columns per tile when channels run along the last axis. */
const TILE = 64;

function unitHistograms(codes: Float32Array | Float64Array, min: number, u: UnitLayout, L: number): Counters {
  const { outer, axisLen, inner } = u;
  const most = u.mode === 'tensor' ? codes.length : u.mode === 'axis' ? outer * inner : u.blockSize;
  const hist = counters(unitCount(u) * L, most);
  let i = 0;
  if (u.mode === 'tensor') {
    for (; i < codes.length; i++) hist[codes[i]! - min]!++;
    return hist;
  }
  for (let o = 0; o < outer; o++)
    for (let a = 0; a < axisLen; a++) {
      if (u.mode === 'axis') {
        const base = a * L - min;
        for (let end = i + inner; i < end; i++) hist[base + codes[i]!]!++;
      } else {
        // blocked: each inner position has its own unit
        const first = (o * u.blocks + Math.floor(a / u.blockSize)) * inner;
        for (let j = 0; j < inner; j++, i++) hist[(first + j) * L - min + codes[i]!]!++;
      }
    }
  return hist;
}

/** Counts at qmin and qmax, elements and distinct codes per unit, from per-unit histograms of L bins. */
function fromHistograms(hist: Counters, L: number, lo: number, hi: number): CodeCounts {
  const n = hist.length / L;
  const atMin = new Uint32Array(n);
  const atMax = new Uint32Array(n);
  const elements = new Uint32Array(n);
  const levels = new Uint32Array(n);
  for (let u = 0; u < n; u++) {
    const base = u * L;
    atMin[u] = hist[base + lo]!;
    atMax[u] = hist[base + hi]!;
    let count = 0;
    let used = 0;
    for (let k = 0; k < L; k++) {
      const h = hist[base + k]!;
      count += h;
      if (h) used++;
    }
    elements[u] = count;
    levels[u] = used;
  }
  return { atMin, atMax, elements, levels };
}

/** Counts without histograms (32-bit codes, or too many units): no distinct codes. */
function countEnds(
  codes: Float32Array | Float64Array,
  n: number,
  qmin: number,
  qmax: number,
  unitOf: (i: number) => number,
): CodeCounts {
  const atMin = new Uint32Array(n);
  const atMax = new Uint32Array(n);
  const elements = new Uint32Array(n);
  for (let i = 0; i < codes.length; i++) {
    const u = unitOf(i);
    const v = codes[i]!;
    elements[u]!++;
    if (v === qmin) atMin[u]!++;
    else if (v === qmax) atMax[u]!++;
  }
  return { atMin, atMax, elements, levels: null };
}

/** The channel of element i (ChannelLayout [groups, outer, cg, inner]). */
const channelOf = (l: ChannelLayout) => (i: number) => {
  const perGroup = l.outer * l.cg * l.inner;
  return Math.floor(i / perGroup) * l.cg + (Math.floor(i / l.inner) % l.cg);
};

/** The scale unit of element i. */
const unitOf = (u: UnitLayout) => (i: number) => {
  if (u.mode === 'tensor') return 0;
  const a = Math.floor(i / u.inner) % u.axisLen;
  if (u.mode === 'axis') return a;
  const o = Math.floor(i / (u.inner * u.axisLen));
  return (o * u.blocks + Math.floor(a / u.blockSize)) * u.inner + (i % u.inner);
};

/**
 * Saturation and grid levels of integer `codes` (the stored values, one per weight element) per output channel
 * (`channels`) and per scale unit (`units`). `symmetric`: every zero point is 0 (or there are none).
 */
export function auditCodes(
  codes: Float32Array | Float64Array,
  type: CodeType,
  channels: ChannelLayout,
  units: UnitLayout,
  symmetric: boolean,
): CodeAudit {
  const C = channels.groups * channels.cg;
  const U = unitCount(units);
  if (type.bits > 16) {
    let anyAtTypeMin = false;
    for (let i = 0; i < codes.length && !anyAtTypeMin; i++) anyAtTypeMin = codes[i] === type.min;
    const restricted = type.signed && symmetric && !anyAtTypeMin;
    const qmin = restricted ? type.min + 1 : type.min;
    const byChannel = countEnds(codes, C, qmin, type.max, channelOf(channels));
    const byUnit = countEnds(codes, U, qmin, type.max, unitOf(units));
    const sum = (a: Uint32Array) => a.reduce((x, y) => x + y, 0);
    return {
      qmin,
      qmax: type.max,
      restricted,
      atMin: sum(byChannel.atMin),
      atMax: sum(byChannel.atMax),
      levels: null,
      channels: byChannel,
      units: byUnit,
    };
  }
  const L = 2 ** type.bits;
  // Histograms indexed by code − type.min straight from the decoded codes (a conversion pass costs more).
  const min = type.min;
  const perChannel = C * L * 4 <= MAX_HISTOGRAM_BYTES ? channelHistograms(codes, min, channels, L) : null;
  let layer: Counters;
  if (perChannel) {
    layer = new Uint32Array(L);
    for (let c = 0; c < C; c++) for (let k = 0; k < L; k++) layer[k]! += perChannel[c * L + k]!;
  } else {
    layer = unitHistograms(codes, min, unitLayout([codes.length], { mode: 'tensor', axis: null, blockSize: 0 }), L);
  }
  const restricted = type.signed && symmetric && layer[0] === 0;
  const qmin = restricted ? type.min + 1 : type.min;
  const qmax = type.max;
  const [lo, hi] = [qmin - type.min, qmax - type.min];
  const byChannel = perChannel
    ? fromHistograms(perChannel, L, lo, hi)
    : countEnds(codes, C, qmin, qmax, channelOf(channels));
  const sameAsChannels =
    units.mode === 'axis' &&
    channels.groups === 1 &&
    units.outer === channels.outer &&
    units.axisLen === channels.cg &&
    units.inner === channels.inner;
  const byUnit =
    sameAsChannels && perChannel
      ? byChannel
      : units.mode === 'tensor'
        ? fromHistograms(layer, L, lo, hi)
        : U * L * 4 <= MAX_HISTOGRAM_BYTES
          ? fromHistograms(unitHistograms(codes, min, units, L), L, lo, hi)
          : countEnds(codes, U, qmin, qmax, unitOf(units));
  return {
    qmin,
    qmax,
    restricted,
    atMin: layer[lo]!,
    atMax: layer[hi]!,
    levels: Array.from(layer).reduce((n, h) => n + (h ? 1 : 0), 0),
    channels: byChannel,
    units: byUnit,
  };
}

/** Scales that make a grid degenerate, counted. */
export interface ScaleCounts {
  count: number;
  zero: number;
  /** Nonzero with a magnitude below the smallest normal number of the scales' type. */
  denormal: number;
  negative: number;
  nonFinite: number;
}

/** The smallest normal magnitude of a float type (float16 2^−14; float32 and bfloat16 2^−126). */
export function smallestNormal(dataType: number): number {
  if (dataType === DT.FLOAT16) return 2 ** -14;
  if (dataType === DT.DOUBLE) return 2 ** -1022;
  return 2 ** -126;
}

/** `values`: the scales as read (float16 and bfloat16 widen to float32 exactly). */
export function countScales(values: ArrayLike<number>, dataType: number): ScaleCounts {
  const tiny = smallestNormal(dataType);
  const counts: ScaleCounts = { count: values.length, zero: 0, denormal: 0, negative: 0, nonFinite: 0 };
  for (let i = 0; i < values.length; i++) {
    const s = values[i]!;
    if (!Number.isFinite(s)) counts.nonFinite++;
    else if (s === 0) counts.zero++;
    else if (Math.abs(s) < tiny) counts.denormal++;
    if (s < 0) counts.negative++;
  }
  return counts;
}

/** The dequantized weight against the float one, per output channel. */
export interface FloatComparison {
  /** Σ x² and Σ (x − x̂)² per channel, in float64. */
  signal: Float64Array;
  noise: Float64Array;
  /** Float values outside [(qmin − zp)·s, (qmax − zp)·s] of their unit (the ends rounded to float32). */
  outside: Uint32Array;
  /** Of those, the ones farther than half a step outside (their error exceeds any rounding error). */
  clipped: Uint32Array;
}

/**
 * Compares `float` with its dequantized copy `dequantized`; `scales` and `zeroPoints` are per unit (`units`),
 * the range [qmin, qmax] the codes' (CodeAudit's).
 */
export function compareWithFloat(
  float: Float32Array,
  dequantized: Float32Array,
  scales: ArrayLike<number>,
  zeroPoints: ArrayLike<number>,
  qmin: number,
  qmax: number,
  channels: ChannelLayout,
  units: UnitLayout,
): FloatComparison {
  const n = float.length;
  // 1: each unit's range, its ends as DequantizeLinear gives them ((q − zp)·s rounded once to float32)
  const U = unitCount(units);
  const lo = new Float64Array(U);
  const hi = new Float64Array(U);
  const half = new Float64Array(U);
  for (let u = 0; u < U; u++) {
    const s = scales[u]!;
    const a = Math.fround((qmin - zeroPoints[u]!) * s);
    const b = Math.fround((qmax - zeroPoints[u]!) * s);
    lo[u] = Math.min(a, b);
    hi[u] = Math.max(a, b);
    half[u] = Math.abs(s) / 2;
  }
  // 2: outside (1) / clipped (3) flags per element, in plain loops over the unit layout
  const flags = new Uint8Array(n);
  const flag = (i: number, u: number) => {
    const x = float[i]!;
    if (x < lo[u]! || x > hi[u]!) flags[i] = x < lo[u]! - half[u]! || x > hi[u]! + half[u]! ? 3 : 1;
  };
  if (units.mode === 'tensor') for (let i = 0; i < n; i++) flag(i, 0);
  else {
    const { outer, axisLen, inner } = units;
    let i = 0;
    for (let o = 0; o < outer; o++)
      for (let a = 0; a < axisLen; a++) {
        const base = units.mode === 'axis' ? -1 : (o * units.blocks + Math.floor(a / units.blockSize)) * inner;
        if (base < 0) for (let j = 0; j < inner; j++, i++) flag(i, a);
        else for (let j = 0; j < inner; j++, i++) flag(i, base + j);
      }
  }
  // 3: sums per channel
  const C = channels.groups * channels.cg;
  const signal = new Float64Array(C);
  const noise = new Float64Array(C);
  const outside = new Uint32Array(C);
  const clipped = new Uint32Array(C);
  const { groups, outer, cg, inner } = channels;
  let i = 0;
  for (let g = 0; g < groups; g++)
    for (let o = 0; o < outer; o++)
      for (let c = 0; c < cg; c++) {
        let sx = 0;
        let se = 0;
        let out = 0;
        let clip = 0;
        for (let end = i + inner; i < end; i++) {
          const x = float[i]!;
          const e = x - dequantized[i]!;
          sx += x * x;
          se += e * e;
          const f = flags[i]!;
          out += f & 1;
          clip += f >> 1;
        }
        const ch = g * cg + c;
        signal[ch]! += sx;
        noise[ch]! += se;
        outside[ch]! += out;
        clipped[ch]! += clip;
      }
  return { signal, noise, outside, clipped };
}
