// The singular-value kernels against test/reference/singular_values.py (numpy's LAPACK SVD of the matrix
// itself, no Gram matrix): random matrices of several shapes, and real trained layers of the PaddleOCR
// models — Weight SVD [Cout, Cin·kh·kw] of the largest Conv of each, Spatial SVD [Cout·kh, Cin·kw] of the
// largest with a kernel wider than 1×1, a depthwise Conv, a MatMul. Bars (docs/definitions.md, "Singular
// values"): σ_max within 1e-6 relative, every σ_i within 1e-4·σ_max; at full rank the vectors rebuild the
// largest layer within 1e-5 relative Frobenius.
import { after, before, describe, it } from 'node:test';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { Kernels } from '../../src/kernels/kernels.js';
import { SvdKernels, spatialMatrix } from '../../src/kernels/svd-kernels.js';
import { findWeightLayers, type WeightLayer } from '../../src/analysis/layers.js';
import { openModelFile } from '../../src/node/open-file.js';
import { PYTHON, realModel } from '../support/node-paths.js';
import { randomWeights } from '../support/random.js';

interface Matrix {
  name: string;
  rows: number;
  cols: number;
  values: Float32Array;
}

async function numpySingularValues(matrices: readonly Matrix[]): Promise<number[][]> {
  const job = JSON.stringify({ matrices: matrices.map((m) => ({ ...m, values: Array.from(m.values) })) });
  const run = promisify(execFile)(PYTHON, ['test/reference/singular_values.py'], { maxBuffer: 256 << 20 });
  run.child.stdin!.end(job);
  const { stdout } = await run;
  return (JSON.parse(stdout) as { singularValues: number[][] }).singularValues;
}

/** Largest |σ_i − ref_i| / ref_0, and |σ_0 − ref_0| / ref_0. */
function errors(ours: Float64Array, ref: readonly number[]): { top: number; any: number } {
  expect(ours.length).to.equal(ref.length);
  const top = ref[0] ?? 0;
  if (top === 0) return { top: Math.abs(ours[0] ?? 0), any: Math.max(0, ...ours) };
  return {
    top: Math.abs(ours[0]! - top) / top,
    any: Math.max(...ref.map((r, i) => Math.abs(ours[i]! - r) / top)),
  };
}

/** B [rows, rank]·C [rank, cols]. */
function lowRank(rows: number, cols: number, rank: number, seed: number): Float32Array {
  const [b, c] = [randomWeights(rows * rank, seed), randomWeights(rank * cols, seed + 1)];
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < cols; j++)
      for (let k = 0; k < rank; k++) out[i * cols + j]! += b[i * rank + k]! * c[k * cols + j]!;
  return out;
}

async function weightOf(layer: WeightLayer): Promise<Float32Array> {
  const values = new Float32Array(layer.weight.size);
  await layer.weight.readFloat32Into(values);
  return values;
}

/** The real layers checked: see the file's comment. */
async function realMatrices(): Promise<Matrix[]> {
  const out: Matrix[] = [];
  for (const file of [
    'ch_PP-OCRv4_det_infer.onnx',
    'ch_PP-OCRv4_rec_infer.onnx',
    'ch_ppocr_mobile_v2.0_cls_infer.onnx',
  ]) {
    const layers = findWeightLayers(await openModelFile(realModel(file)));
    const convs = layers
      .filter((l) => l.op === 'Conv' && l.weight.shape.length === 4)
      .sort((a, b) => b.weight.size - a.weight.size);
    const wide = convs.find((l) => l.weight.shape[2]! * l.weight.shape[3]! > 1)!;
    const picks = new Set([convs[0]!, wide, convs.find((l) => l.depthwise)!]);
    for (const layer of picks) {
      const [cout, cin, kh, kw] = layer.weight.shape as [number, number, number, number];
      const values = await weightOf(layer);
      out.push({
        name: `${file} ${layer.name} [${cout}, ${cin}·${kh}·${kw}]`,
        rows: cout,
        cols: cin * kh * kw,
        values,
      });
      if (layer === wide) {
        const spatial = new Float32Array(values.length);
        spatialMatrix(values, [cout, cin, kh, kw], spatial);
        out.push({
          name: `${file} ${layer.name} spatial [${cout}·${kh}, ${cin}·${kw}]`,
          rows: cout * kh,
          cols: cin * kw,
          values: spatial,
        });
      }
    }
    const matmul = layers.find((l) => l.op === 'MatMul' && l.weight.shape.length === 2);
    if (matmul) {
      const [rows, cols] = matmul.weight.shape as [number, number];
      out.push({ name: `${file} ${matmul.name} [${rows}, ${cols}]`, rows, cols, values: await weightOf(matmul) });
    }
  }
  return out;
}

const RANDOM: Matrix[] = [
  { name: 'wide [24, 300]', rows: 24, cols: 300, values: randomWeights(7200, 21) },
  { name: 'tall [257, 31]', rows: 257, cols: 31, values: randomWeights(257 * 31, 22) },
  { name: 'square [128, 128]', rows: 128, cols: 128, values: randomWeights(128 * 128, 23) },
  { name: 'rank 7 of [60, 90]', rows: 60, cols: 90, values: lowRank(60, 90, 7, 24) },
  { name: 'one row [1, 50]', rows: 1, cols: 50, values: randomWeights(50, 26) },
  { name: 'one column [50, 1]', rows: 50, cols: 1, values: randomWeights(50, 27) },
  { name: '[1, 1]', rows: 1, cols: 1, values: Float32Array.of(0.25) },
  { name: '[3, 2]', rows: 3, cols: 2, values: randomWeights(6, 28) },
];

describe('singular values agree with numpy', () => {
  let k: Kernels, svd: SvdKernels;
  before(async () => {
    k = await Kernels.load();
    svd = await SvdKernels.load(k);
  });
  const worst = { top: 0, any: 0 };
  after(() =>
    console.log(
      `real layers vs numpy: relative error of σ_max ${worst.top.toExponential(2)}, largest |σ_i − numpy's| / σ_max ${worst.any.toExponential(2)}`,
    ),
  );

  async function check(matrices: Matrix[], real: boolean): Promise<void> {
    const refs = await numpySingularValues(matrices);
    for (const [i, m] of matrices.entries()) {
      const staged = await k.stage(m.values.length, (d) => d.set(m.values), { tensor: m.name });
      const e = errors(svd.singularValues(staged, m.rows, m.cols), refs[i]!);
      expect(e.top, `${m.name}: σ_max`).to.be.below(1e-6);
      expect(e.any, `${m.name}: σ_i / σ_max`).to.be.below(1e-4);
      if (real) [worst.top, worst.any] = [Math.max(worst.top, e.top), Math.max(worst.any, e.any)];
    }
  }

  it('random matrices: wide, tall, square, rank-deficient, one row or column, tiny', () => check(RANDOM, false));

  it('PaddleOCR layers: Weight SVD, Spatial SVD, depthwise, MatMul', async () => {
    const matrices = await realMatrices();
    expect(matrices.length).to.be.at.least(10);
    await check(matrices, true);
  });

  it('the largest PaddleOCR layer rebuilt from its vectors at full rank', async () => {
    const [largest] = (await realMatrices()).sort((a, b) => b.values.length - a.values.length);
    const { rows, cols, values } = largest!;
    const staged = await k.stage(values.length, (d) => d.set(values));
    const { values: sigma, left, right } = svd.singularVectors(staged, rows, cols);
    const rest = Float64Array.from(values);
    for (let j = 0; j < sigma.length; j++)
      for (let i = 0; i < rows; i++) {
        const f = sigma[j]! * left[j * rows + i]!;
        for (let c = 0; c < cols; c++) rest[i * cols + c]! -= f * right[j * cols + c]!;
      }
    const norm = (a: ArrayLike<number>) => Math.sqrt(Array.from(a).reduce((s, x) => s + x * x, 0));
    const error = norm(rest) / norm(values);
    console.log(`${largest!.name}: rebuilt from its vectors within ${error.toExponential(2)} (relative Frobenius)`);
    expect(error, largest!.name).to.be.below(1e-5);
  });
});
