// Instantiates the AssemblyScript kernels once per realm (page, Worker or Node process). The binary is
// inlined as base64 so no second file has to be hosted or found; compilation is async because Chromium
// refuses synchronous compilation of modules over 4 KB on the main thread. Two builds: relaxed SIMD
// (FMA; current Chromium) where the engine validates it, plain SIMD otherwise (Node 20).
import { KERNELS_RELAXED_WASM_BASE64, KERNELS_WASM_BASE64 } from './wasm-binary.generated.js';

/**
 * assembly/block-quant-error.ts (SIMD, and its scalar twin): `nb` i32 block sizes, each dividing the next;
 * quantizers are `nq` f32 pairs (qmin, qmax).
 */
type BlockQuantErrorKernel = (
  src: number,
  mats: number,
  rows: number,
  cols: number,
  blocks: number,
  nb: number,
  quantizers: number,
  nq: number,
  scratch: number,
  out: number,
) => void;

/**
 * assembly/clip-search.ts: [groups, outer, cg, inner] channels or [mats, rows, cols] blocks of `block`
 * rows; returns the non-finite values met (0: results written).
 */
type ClipSearchKernel = (
  src: number,
  a: number,
  b: number,
  c: number,
  d: number,
  qmin: number,
  qmax: number,
  scratch: number,
  out: number,
) => number;

/** assembly/hqq-zero-points.ts: blocks of `block` rows of [mats, rows, cols]; returns the steps taken, −1 on NaN/±Inf. */
type HqqKernel = (
  src: number,
  mats: number,
  rows: number,
  cols: number,
  block: number,
  qmax: number,
  scratch: number,
  out: number,
) => number;

/** The raw exports of assembly/index.ts: pointer + length signatures, JS owns the memory. */
export interface KernelExports {
  readonly memory: WebAssembly.Memory;
  channelStatsScalar(src: number, groups: number, outer: number, cg: number, inner: number, out: number): void;
  channelStatsExact(
    src: number,
    groups: number,
    outer: number,
    cg: number,
    inner: number,
    ch: number,
    out: number,
  ): void;
  channelStatsRunsSimd(src: number, groups: number, outer: number, cg: number, inner: number, out: number): void;
  channelStatsColumnsSimd(src: number, rows: number, cols: number, out: number): void;
  runAbsMax(src: number, runs: number, k: number, out: number): void;
  gridAbsMax(src: number, rows: number, cols: number, rowMax: number, colMax: number): void;
  scaleRuns(src: number, runs: number, k: number, factors: number): void;
  scaleGrid(src: number, rows: number, cols: number, k: number, rowF: number, colF: number): void;
  runSums(src: number, runs: number, k: number, out: number): void;
  runAbsMaxScalar(src: number, runs: number, k: number, out: number): void;
  gridAbsMaxScalar(src: number, rows: number, cols: number, rowMax: number, colMax: number): void;
  scaleRunsScalar(src: number, runs: number, k: number, factors: number): void;
  scaleGridScalar(src: number, rows: number, cols: number, k: number, rowF: number, colF: number): void;
  runSumsScalar(src: number, runs: number, k: number, out: number): void;
  quantErrors(
    src: number,
    groups: number,
    outer: number,
    cg: number,
    inner: number,
    params: number,
    nq: number,
    out: number,
  ): void;
  quantErrorsColumns(src: number, outer: number, cg: number, params: number, nq: number, out: number): void;
  blockQuantError: BlockQuantErrorKernel;
  /** assembly/quantize.ts: codes (one byte each) and f64 [Σx², Σ(x − deq)²] at out. */
  quantizeChannels(
    src: number,
    groups: number,
    outer: number,
    cg: number,
    inner: number,
    params: number,
    qmin: number,
    qmax: number,
    codes: number,
    out: number,
    stored: number,
  ): void;
  /** assembly/quantize.ts: each block's min and max, f32[E] each. */
  blockRanges(src: number, mats: number, rows: number, cols: number, block: number, lo: number, hi: number): void;
  quantizeBlocks(
    src: number,
    mats: number,
    rows: number,
    cols: number,
    block: number,
    params: number,
    qmin: number,
    qmax: number,
    codes: number,
    out: number,
    stored: number,
  ): void;
  blockQuantErrorScalar: BlockQuantErrorKernel;
  blockScratchFloats(cols: number, smallest: number, largest: number): number;
  clipSearchChannels: ClipSearchKernel;
  clipSearchChannelsScalar: ClipSearchKernel;
  clipSearchBlocks: ClipSearchKernel;
  clipSearchBlocksScalar: ClipSearchKernel;
  hqqZeroPoints: HqqKernel;
  hqqZeroPointsScalar: HqqKernel;
  /** assembly/gram.ts: G = A·Aᵀ or Aᵀ·A (f64 [s, s], lower triangle); `transposed` is f32 scratch for Aᵀ; 1 if A holds NaN/±Inf. */
  gramMatrix(src: number, rows: number, cols: number, transposed: number, out: number): number;
  /** assembly/symmetric-eigen.ts: eigenvalues descending into d (vectors into w unless 0); QL steps, −1 if none converge. */
  symmetricEigen(g: number, n: number, d: number, e: number, work: number, w: number): number;
  /** assembly/singular-vectors.ts: Y [s, len] = rows Xᵀ·w_j / σ_j (zero where σ_j ≤ cut). */
  singularVectors(x: number, s: number, len: number, w: number, sigma: number, cut: number, y: number): void;
  histogram(
    src: number,
    groups: number,
    outer: number,
    cg: number,
    inner: number,
    channel: number,
    lo: number,
    hi: number,
    bins: number,
    out: number,
  ): void;
  histogramBytes(bins: number): number;
}

function decodeBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

let instance: Promise<KernelExports> | undefined;

export type KernelVariant = 'relaxed-simd' | 'simd';

/** The build this engine runs: relaxed SIMD if it validates here, else plain SIMD. */
export function kernelVariant(): KernelVariant {
  return WebAssembly.validate(decodeBase64(KERNELS_RELAXED_WASM_BASE64)) ? 'relaxed-simd' : 'simd';
}

export function instantiateKernels(): Promise<KernelExports> {
  const binary = kernelVariant() === 'relaxed-simd' ? KERNELS_RELAXED_WASM_BASE64 : KERNELS_WASM_BASE64;
  instance ??= WebAssembly.compile(decodeBase64(binary))
    .then((module) => WebAssembly.instantiate(module, {}))
    .then((created) => created.exports as unknown as KernelExports);
  return instance;
}
