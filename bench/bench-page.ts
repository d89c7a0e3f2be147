// Runs in headless Chromium (scripts/bench.mjs). Prints one JSON line per benchmark via console.log;
// every figure in a line is measured in the same page, back to back, as medians of several runs.
import {
  effectiveRank,
  factorizationCurve,
  rankForEnergy,
  unstructuredPruningCurve,
} from '../src/analysis/compression.js';
import { instantiateKernels, kernelVariant } from '../src/kernels/wasm-module.js';
import { openModel } from '../src/onnx/open.js';
import { computeStats } from '../src/pipeline/compute-stats.js';
import {
  Kernels,
  statsResultBytes,
  type BlockLayout,
  type ChannelLayout,
  type StagedTensor,
} from '../src/kernels/kernels.js';
import { planCle } from '../src/cle/plan-cle.js';
import { exportModel } from '../src/onnx/export/export.js';
import { resnet50Bytes } from '../test/fixtures/resnet50.js';
import { findWeightLayers } from '../src/analysis/layers.js';
import { layerHistogram } from '../src/pipeline/weight-histogram.js';
import { mainThreadBenches } from './main-thread.js';
import { QUANTIZER_RANGES } from '../src/pipeline/quant-error.js';
import { QuantSearchKernels } from '../src/kernels/quant-search-kernels.js';
import { clipSearchReference, hqqReference } from '../src/kernels/quant-search-reference.js';
import { SvdKernels } from '../src/kernels/svd-kernels.js';
import { singularValuesReference } from '../src/kernels/svd-reference.js';

const RUNS = 7;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function time(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

/** ResNet-50's conv weights as [Cout, rest] row lengths: the same tensor set for all three loops. */
function tensorSet(): { cout: number; inner: number }[] {
  const set = [{ cout: 64, inner: 3 * 49 }];
  let cin = 64;
  for (const [blocks, mid] of [
    [3, 64],
    [4, 128],
    [6, 256],
    [3, 512],
  ] as const) {
    for (let i = 0; i < blocks; i++) {
      set.push({ cout: mid, inner: cin }, { cout: mid, inner: mid * 9 }, { cout: mid * 4, inner: mid });
      if (i === 0) set.push({ cout: mid * 4, inner: cin });
      cin = mid * 4;
    }
  }
  set.push({ cout: 1000, inner: 2048 });
  return set;
}

/** The plain-JS scalar loop computing what the kernel computes (min, max, shifted Σ, Σ², per channel). */
function jsChannelStats(data: Float32Array, offset: number, cout: number, inner: number, out: Float64Array): void {
  for (let c = 0; c < cout; c++) {
    const start = offset + c * inner;
    const k = data[start]!;
    let mn = Infinity,
      mx = -Infinity,
      s = 0,
      q = 0;
    for (let i = start; i < start + inner; i++) {
      const x = data[i]!;
      if (x < mn) mn = x;
      if (x > mx) mx = x;
      const d = x - k;
      s += d;
      q += d * d;
    }
    const mean = s / inner;
    out[c * 4] = mn;
    out[c * 4 + 1] = mx;
    out[c * 4 + 2] = k + mean;
    out[c * 4 + 3] = Math.sqrt(Math.max(q / inner - mean * mean, 0));
  }
}

async function channelStatsBench(): Promise<void> {
  const set = tensorSet();
  const total = set.reduce((a, t) => a + t.cout * t.inner, 0);
  const wasm = await instantiateKernels();
  const base = 65536;
  const outAt = base + total * 4;
  const need = outAt + statsResultBytes(4096) - wasm.memory.buffer.byteLength;
  if (need > 0) wasm.memory.grow(Math.ceil(need / 65536));
  const data = new Float32Array(wasm.memory.buffer, base, total);
  for (let i = 0; i < total; i++) data[i] = Math.sin(i) * 0.1;
  const copyTarget = new Float32Array(total);
  const jsOut = new Float64Array(4096 * 4);
  const wasmTimes: number[] = [],
    jsTimes: number[] = [],
    copyTimes: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    copyTimes.push(time(() => copyTarget.set(data)));
    wasmTimes.push(
      time(() => {
        let p = base;
        for (const t of set) {
          wasm.channelStatsRunsSimd(p, 1, 1, t.cout, t.inner, outAt);
          p += t.cout * t.inner * 4;
        }
      }),
    );
    jsTimes.push(
      time(() => {
        let offset = 0;
        for (const t of set) {
          jsChannelStats(data, offset, t.cout, t.inner, jsOut);
          offset += t.cout * t.inner;
        }
      }),
    );
  }
  const bytes = total * 4;
  const gbps = (ms: number) => +(bytes / (ms * 1e6)).toFixed(2);
  const [w, j, c] = [median(wasmTimes), median(jsTimes), median(copyTimes)];
  console.log(
    JSON.stringify({
      bench: 'channel-stats',
      bytes,
      wasm_gbps: gbps(w),
      js_gbps: gbps(j),
      copy_gbps: gbps(c),
      wasm_vs_copy: +(c / w).toFixed(2),
      wasm_vs_js: +(j / w).toFixed(2),
      kernel: kernelVariant(),
      runs: RUNS,
    }),
  );
}

async function openStatsBench(): Promise<void> {
  const { bytes, weightCount } = resnet50Bytes();
  const kernels = await Kernels.load();
  const times: number[] = [],
    copies: number[] = [];
  const copyTarget = new Uint8Array(bytes.length); // preallocated: the copy is timed, not page faults
  let layers = 0;
  for (let r = 0; r < RUNS; r++) {
    copies.push(time(() => copyTarget.set(bytes)));
    const t0 = performance.now();
    const model = await openModel(bytes, { fileName: 'resnet50.onnx' });
    const report = await computeStats(model, { kernels });
    times.push(performance.now() - t0);
    layers = report.layers.length;
  }
  const [ms, copy] = [median(times), median(copies)];
  console.log(
    JSON.stringify({
      bench: 'open+stats',
      weight_bytes: weightCount * 4,
      file_bytes: bytes.length,
      layers,
      ms: +ms.toFixed(1),
      copy_ms: +copy.toFixed(2),
      ratio_to_copy: +(ms / copy).toFixed(1),
      runs: RUNS,
    }),
  );
}

/** Plain-JS fake quantization (INT8 symmetric, per-channel scales) with the same float32 arithmetic. */
function jsQuantError(data: Float32Array, offset: number, cout: number, inner: number, scales: Float32Array): number {
  let noise = 0;
  for (let c = 0; c < cout; c++) {
    const s = scales[c]!;
    for (let i = offset + c * inner, end = i + inner; i < end; i++) {
      const x = data[i]!;
      const q = Math.min(Math.max(Math.round(x / s), -127), 127) * s;
      noise += (x - q) * (x - q);
    }
  }
  return noise;
}

type BenchTensor = { cout: number; inner: number };

/**
 * A Wasm kernel over ResNet-50's conv weights, one tensor staged at a time (staging is not timed), against
 * a plain-JS loop over the same weights and one typed-array copy of them; prints one bench line.
 */
async function tensorKernelBench(
  name: string,
  wasm: (kernels: Kernels, tensor: StagedTensor, layout: ChannelLayout) => void,
  js: (data: Float32Array, offset: number, t: BenchTensor) => void,
  extra: Record<string, unknown> = {},
  { set = tensorSet(), kernels }: { set?: BenchTensor[]; kernels?: Kernels } = {},
): Promise<void> {
  const total = set.reduce((a, t) => a + t.cout * t.inner, 0);
  kernels ??= await Kernels.load();
  const data = new Float32Array(total);
  for (let i = 0; i < total; i++) data[i] = Math.sin(i) * 0.1;
  const copyTarget = new Float32Array(total);
  const wasmTimes: number[] = [],
    jsTimes: number[] = [],
    copyTimes: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    copyTimes.push(time(() => copyTarget.set(data)));
    let ms = 0,
      offset = 0;
    for (const t of set) {
      const n = t.cout * t.inner;
      const tensor = await kernels.stage(n, (d) => d.set(data.subarray(offset, offset + n)));
      ms += time(() => wasm(kernels, tensor, { groups: 1, outer: 1, cg: t.cout, inner: t.inner }));
      offset += n;
    }
    wasmTimes.push(ms);
    jsTimes.push(
      time(() => {
        let o = 0;
        for (const t of set) {
          js(data, o, t);
          o += t.cout * t.inner;
        }
      }),
    );
  }
  const bytes = total * 4;
  const gbps = (ms: number) => +(bytes / (ms * 1e6)).toFixed(2);
  const [w, j, c] = [median(wasmTimes), median(jsTimes), median(copyTimes)];
  console.log(
    JSON.stringify({
      bench: name,
      bytes,
      wasm_gbps: gbps(w),
      js_gbps: gbps(j),
      copy_gbps: gbps(c),
      wasm_vs_copy: +(c / w).toFixed(2),
      wasm_vs_js: +(j / w).toFixed(2),
      ...extra,
      runs: RUNS,
    }),
  );
}

/** Plain-JS INT8 symmetric error of [rows, cols] with one scale per column (a MatMul weight), row by row. */
function jsQuantErrorColumns(data: Float32Array, offset: number, rows: number, cols: number, scales: Float32Array) {
  let noise = 0;
  for (let r = 0; r < rows; r++) {
    for (let c = 0, i = offset + r * cols; c < cols; c++, i++) {
      const x = data[i]!;
      const q = Math.min(Math.max(Math.round(x / scales[c]!), -127), 127) * scales[c]!;
      noise += (x - q) * (x - q);
    }
  }
  return noise;
}

/**
 * The fused fake-quantize + error kernel (INT8 symmetric, per-channel scales): each [Cout, inner] weight as
 * Conv channels (`quant-error`: contiguous runs) and as a MatMul [K = Cout, N = inner] with a channel per
 * column (`quant-error-columns`: the row-by-row kernel).
 */
async function quantErrorBench(): Promise<void> {
  const scales = new Float32Array(2048 * 9).fill(0.1 / 127);
  const zeroPoints = new Float32Array(2048 * 9);
  await tensorKernelBench(
    'quant-error',
    (k, tensor, layout) =>
      k.quantErrors(tensor, layout, [
        { scales: scales.subarray(0, layout.cg), zeroPoints: zeroPoints.subarray(0, layout.cg), qmin: -127, qmax: 127 },
      ]),
    (data, offset, t) => jsQuantError(data, offset, t.cout, t.inner, scales),
    { kernel: kernelVariant() },
  );
  await tensorKernelBench(
    'quant-error-columns',
    (k, tensor, { cg, inner }) =>
      k.quantErrors(tensor, { groups: 1, outer: cg, cg: inner, inner: 1 }, [
        { scales: scales.subarray(0, inner), zeroPoints: zeroPoints.subarray(0, inner), qmin: -127, qmax: 127 },
      ]),
    (data, offset, t) => jsQuantErrorColumns(data, offset, t.cout, t.inner, scales),
    { kernel: kernelVariant() },
  );
}

/**
 * Plain-JS per-group error with the kernel's arithmetic: per block of `block` rows of one column, its
 * range, then each quantizer's scale, zero point and Σ(x − q(x))².
 */
function jsBlockQuantError(
  data: Float32Array,
  offset: number,
  layout: BlockLayout,
  block: number,
  noise: Float64Array,
) {
  const { mats, rows, cols } = layout;
  const f = Math.fround;
  for (let m = 0; m < mats; m++) {
    for (let r0 = 0; r0 < rows; r0 += block) {
      const r1 = Math.min(rows, r0 + block);
      for (let c = 0; c < cols; c++) {
        const first = offset + (m * rows + r0) * cols + c;
        let lo = 0,
          hi = 0;
        for (let i = first, end = first + (r1 - r0) * cols; i < end; i += cols) {
          lo = Math.min(lo, data[i]!);
          hi = Math.max(hi, data[i]!);
        }
        QUANTIZER_RANGES.forEach(({ qmin, qmax }, q) => {
          const scale = f(qmin < 0 ? Math.max(-lo, hi) / qmax : (hi - lo) / qmax) || 1;
          const zp = qmin < 0 ? 0 : Math.round(f(-lo / scale));
          for (let i = first, end = first + (r1 - r0) * cols; i < end; i += cols) {
            const x = data[i]!;
            const e = x - f((Math.min(Math.max(Math.round(f(x / scale)) + zp, qmin), qmax) - zp) * scale);
            noise[q]! += e * e;
          }
        });
      }
    }
  }
}

/**
 * The per-group error kernel, blocks of 32, all four quantizers in one call: each [Cout, inner] tensor as
 * `runs` (blocks along the contiguous rows: Gemm transB=1, LSTM, embeddings) and as `columns` (blocks down
 * the columns of [K = Cout, N = inner]: MatMul, Gemm transB=0, Conv's kernel positions).
 */
async function blockQuantErrorBench(): Promise<void> {
  const noise = new Float64Array(QUANTIZER_RANGES.length);
  for (const [name, layoutOf] of [
    ['runs', (t: BenchTensor) => ({ mats: t.cout, rows: t.inner, cols: 1 })],
    ['columns', (t: BenchTensor) => ({ mats: 1, rows: t.cout, cols: t.inner })],
  ] as const) {
    await tensorKernelBench(
      `block-quant-error-${name}`,
      (k, tensor, layout) =>
        k.blockQuantError(tensor, layoutOf({ cout: layout.cg, inner: layout.inner }), [32], QUANTIZER_RANGES),
      (data, offset, t) => jsBlockQuantError(data, offset, layoutOf(t), 32, noise),
      { kernel: kernelVariant(), block: 32, quantizers: QUANTIZER_RANGES.length },
    );
  }
}

/**
 * The parameter searches (INT4) against their plain-JS reference, on ResNet-50's first conv weights (about
 * 1.4M: the reference takes seconds on all of them): clipping search per output channel (Conv layout) and
 * per block of 32 down the columns of [K = Cout, N = inner], and HQQ on those blocks.
 */
async function quantSearchBench(): Promise<void> {
  const set = tensorSet().slice(0, 12);
  const kernels = await Kernels.load();
  const search = await QuantSearchKernels.load(kernels);
  const int4 = { qmin: -7, qmax: 7 },
    uint4 = { qmin: 0, qmax: 15 };
  const channels = (t: BenchTensor) =>
    ({ kind: 'channel', layout: { groups: 1, outer: 1, cg: t.cout, inner: t.inner } }) as const;
  const blocks = (t: BenchTensor) =>
    ({ kind: 'block', layout: { mats: 1, rows: t.cout, cols: t.inner }, block: 32 }) as const;
  const slice = (data: Float32Array, offset: number, t: BenchTensor) =>
    data.subarray(offset, offset + t.cout * t.inner);
  const tensorOf = ({ cg, inner }: ChannelLayout): BenchTensor => ({ cout: cg, inner });
  await tensorKernelBench(
    'clip-search-channels',
    (_, tensor, layout) => search.clipSearch(tensor, channels(tensorOf(layout)), int4),
    (data, offset, t) => clipSearchReference(slice(data, offset, t), channels(t), int4),
    { kernel: kernelVariant(), candidates: 32 },
    { set, kernels },
  );
  await tensorKernelBench(
    'clip-search-blocks',
    (_, tensor, layout) => search.clipSearch(tensor, blocks(tensorOf(layout)), uint4),
    (data, offset, t) => clipSearchReference(slice(data, offset, t), blocks(t), uint4),
    { kernel: kernelVariant(), candidates: 32, block: 32 },
    { set, kernels },
  );
  await tensorKernelBench(
    'hqq-blocks',
    (_, tensor, layout) => search.hqq(tensor, blocks(tensorOf(layout)), uint4),
    (data, offset, t) => hqqReference(slice(data, offset, t), blocks(t), uint4),
    { block: 32 },
    { set, kernels },
  );
}

/** Runs of the compressibility line: its plain-JS side takes seconds per run (O(side³) per layer). */
const SVD_RUNS = 3;

/** What compressibility() does with a layer's singular values and weights: the rank-k and pruning curves. */
function curves(values: Float32Array, sigma: Float64Array, t: BenchTensor): number {
  const svd = factorizationCurve(sigma, values.length, (k) => k * (t.cout + t.inner));
  return svd.length + unstructuredPruningCurve(values).length + rankForEnergy(sigma, 0.99) + effectiveRank(sigma);
}

/**
 * Compressibility (Weight SVD [Cout, Cin·kh·kw] singular values, then the curves) of each distinct ResNet-50
 * conv shape, the Wasm kernels against the plain-JS reference (the curves are the same JS on both sides),
 * staging untimed; also the Wasm time of the layer with the largest Gram side.
 */
async function compressibilityBench(): Promise<void> {
  const shapes = [...new Map(tensorSet().map((t) => [`${t.cout}x${t.inner}`, t])).values()];
  const kernels = await Kernels.load();
  const svd = await SvdKernels.load(kernels);
  const side = (t: BenchTensor) => Math.min(t.cout, t.inner);
  const largest = shapes.reduce((a, b) => (side(b) > side(a) ? b : a));
  const data = shapes.map((t, i) => Float32Array.from({ length: t.cout * t.inner }, (_, k) => Math.sin(k + i) * 0.1));
  const wasmTimes: number[] = [],
    jsTimes: number[] = [],
    largestTimes: number[] = [];
  for (let r = 0; r < SVD_RUNS; r++) {
    let ms = 0;
    for (const [i, t] of shapes.entries()) {
      const staged = await kernels.stage(data[i]!.length, (d) => d.set(data[i]!));
      const one = time(() => curves(data[i]!, svd.singularValues(staged, t.cout, t.inner), t));
      ms += one;
      if (t === largest) largestTimes.push(one);
    }
    wasmTimes.push(ms);
    jsTimes.push(
      time(() => shapes.forEach((t, i) => curves(data[i]!, singularValuesReference(data[i]!, t.cout, t.inner), t))),
    );
  }
  const [w, j] = [median(wasmTimes), median(jsTimes)];
  console.log(
    JSON.stringify({
      bench: 'compressibility',
      shapes: shapes.length,
      wasm_ms: +w.toFixed(1),
      js_ms: +j.toFixed(1),
      wasm_vs_js: +(j / w).toFixed(2),
      largest: `${largest.cout}x${largest.inner}`,
      largest_wasm_ms: +median(largestTimes).toFixed(1),
      kernel: kernelVariant(),
      runs: SVD_RUNS,
    }),
  );
}

/** Plain-JS histogram with the kernel's bin rule (equal widths over [lo, hi], hi in the last bin). */
function jsHistogram(data: Float32Array, offset: number, n: number, lo: number, hi: number, counts: Uint32Array): void {
  const scale = counts.length / (hi - lo),
    last = counts.length - 1;
  for (let i = offset, end = offset + n; i < end; i++) {
    const v = data[i]!;
    if (v >= lo && v <= hi) counts[Math.min(last, Math.floor((v - lo) * scale))]!++;
  }
}

/** The histogram kernel (128 bins over [−0.1, 0.1], whole tensors). */
function histogramBench(): Promise<void> {
  const counts = new Uint32Array(128);
  return tensorKernelBench(
    'histogram',
    (k, tensor, layout) => k.histogram(tensor, layout, -1, -0.1, 0.1, 128),
    (data, offset, t) => {
      counts.fill(0);
      jsHistogram(data, offset, t.cout * t.inner, -0.1, 0.1, counts);
    },
    { bins: 128 },
  );
}

/**
 * What <weight-histogram> asks of a kept model: every layer's whole-tensor histogram of the open
 * ResNet-50-sized model (read weights, exact range, count), against one copy of its weight bytes.
 */
async function histogramJobsBench(): Promise<void> {
  const { bytes, weightCount } = resnet50Bytes();
  const kernels = await Kernels.load();
  const model = await openModel(bytes, { fileName: 'resnet50.onnx' });
  const layers = findWeightLayers(model);
  const weights = new Float32Array(weightCount),
    copyTarget = new Float32Array(weightCount);
  const times: number[] = [],
    copies: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    copies.push(time(() => copyTarget.set(weights)));
    const t0 = performance.now();
    for (const layer of layers)
      await layerHistogram(model, layers, { layer: layer.name, channel: null, bins: 128 }, { kernels });
    times.push(performance.now() - t0);
  }
  const [ms, copy] = [median(times), median(copies)];
  console.log(
    JSON.stringify({
      bench: 'histogram-jobs',
      weight_bytes: weightCount * 4,
      layers: layers.length,
      ms: +ms.toFixed(1),
      ms_per_layer: +(ms / layers.length).toFixed(2),
      copy_ms: +copy.toFixed(2),
      ratio_to_copy: +(ms / copy).toFixed(1),
      runs: RUNS,
    }),
  );
}

/** BN fold + CLE + export of the ResNet-50-sized model (already open), against one copy of its bytes. */
async function cleExportBench(): Promise<void> {
  const { bytes, weightCount } = resnet50Bytes();
  const kernels = await Kernels.load();
  const model = await openModel(bytes, { fileName: 'resnet50.onnx' });
  const times: number[] = [],
    copies: number[] = [];
  const copyTarget = new Uint8Array(bytes.length);
  let folded = 0,
    sets = 0;
  for (let r = 0; r < RUNS; r++) {
    copies.push(time(() => copyTarget.set(bytes)));
    const t0 = performance.now();
    const cle = await planCle(model, { kernels });
    exportModel(model, cle.plan);
    times.push(performance.now() - t0);
    folded = cle.folded.length;
    sets = cle.sets.length;
  }
  const [ms, copy] = [median(times), median(copies)];
  console.log(
    JSON.stringify({
      bench: 'cle+export',
      weight_bytes: weightCount * 4,
      folded,
      sets,
      ms: +ms.toFixed(1),
      copy_ms: +copy.toFixed(2),
      ratio_to_copy: +(ms / copy).toFixed(1),
      runs: RUNS,
    }),
  );
}

try {
  await channelStatsBench();
  await openStatsBench();
  await cleExportBench();
  await quantErrorBench();
  await blockQuantErrorBench();
  await quantSearchBench();
  await compressibilityBench();
  await histogramBench();
  await histogramJobsBench();
  await mainThreadBenches();
} catch (error) {
  console.log(JSON.stringify({ bench: 'error', message: String((error as Error)?.stack ?? error) }));
}
console.log('BENCH_DONE');
