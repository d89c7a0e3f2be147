// The singular-value kernels (assembly/gram.ts, symmetric-eigen.ts, singular-vectors.ts) against their
// plain-JS reference, and what any SVD must satisfy: A = Σ σ_j·u_j·v_jᵀ at full rank, orthonormal vectors,
// σ² summing to ‖A‖²_F; degenerate matrices (zeros, one element, one row or column, rank-deficient, NaN)
// and the size checks. numpy's figures on random and real weights: test/node/svd-reference.test.ts.
import { describe, it, before } from 'node:test';
import { expect } from 'chai';
import { Kernels } from '../src/kernels/kernels.js';
import { MAX_GRAM_SIDE, SvdKernels, spatialMatrix, type SingularVectors } from '../src/kernels/svd-kernels.js';
import {
  singularValuesReference,
  singularVectorsReference,
  symmetricEigenReference,
} from '../src/kernels/svd-reference.js';
import { instantiateKernels } from '../src/kernels/wasm-module.js';
import { WeightlensError } from '../src/errors.js';
import { randomWeights } from './support/random.js';
import { rejects } from './support/rejects.js';

/** B [rows, rank]·C [rank, cols]: rank-deficient when rank < min(rows, cols). */
function lowRank(rows: number, cols: number, rank: number, seed: number): Float32Array {
  const [b, c] = [randomWeights(rows * rank, seed), randomWeights(rank * cols, seed + 1)];
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < cols; j++)
      for (let k = 0; k < rank; k++) out[i * cols + j]! += b[i * rank + k]! * c[k * cols + j]!;
  return out;
}

const SHAPES: [string, number, number, Float32Array][] = [
  ['wide [12, 40]', 12, 40, randomWeights(480, 1)],
  ['tall [45, 11]', 45, 11, randomWeights(495, 2)],
  ['square [33, 33]', 33, 33, randomWeights(1089, 3)],
  ['rank 4 of [20, 30]', 20, 30, lowRank(20, 30, 4, 4)],
  ['rank 3 of [30, 17]', 30, 17, lowRank(30, 17, 3, 6)],
  ['one row [1, 9]', 1, 9, randomWeights(9, 8)],
  ['one column [9, 1]', 9, 1, randomWeights(9, 9)],
  ['[2, 3]', 2, 3, randomWeights(6, 10)],
];

const frobenius = (a: ArrayLike<number>) => Math.sqrt(Array.from(a).reduce((s, x) => s + x * x, 0));

/** ‖A − Σ σ_j u_j v_jᵀ‖_F / ‖A‖_F. */
function reconstructionError(a: Float32Array, rows: number, cols: number, { values, left, right }: SingularVectors) {
  const rest = Float64Array.from(a);
  values.forEach((sigma, j) => {
    for (let i = 0; i < rows; i++)
      for (let k = 0; k < cols; k++) rest[i * cols + k]! -= sigma * left[j * rows + i]! * right[j * cols + k]!;
  });
  return frobenius(rest) / frobenius(a);
}

/** Largest |u_i·u_j − δ_ij| over rows i, j < count of `rows` vectors of `len`. */
function orthonormalityError(vectors: Float64Array, len: number, count: number): number {
  let worst = 0;
  for (let i = 0; i < count; i++) {
    for (let j = i; j < count; j++) {
      let dot = 0;
      for (let k = 0; k < len; k++) dot += vectors[i * len + k]! * vectors[j * len + k]!;
      worst = Math.max(worst, Math.abs(dot - (i === j ? 1 : 0)));
    }
  }
  return worst;
}

describe('singular values (Wasm)', () => {
  let k: Kernels, svd: SvdKernels;
  before(async () => {
    k = await Kernels.load();
    svd = await SvdKernels.load(k);
  });
  const stage = (a: Float32Array) => k.stage(a.length, (d) => d.set(a), { tensor: 'w' });

  for (const [name, rows, cols, a] of SHAPES) {
    it(`${name}: values equal the JS reference's, σ² sums to ‖A‖²`, async () => {
      const ours = svd.singularValues(await stage(a), rows, cols);
      const ref = singularValuesReference(a, rows, cols);
      expect(ours.length).to.equal(Math.min(rows, cols));
      // Compared as σ² (the eigenvalues both compute): past the rank, σ is √(rounding) and differs more.
      const top = ref[0]! ** 2;
      ours.forEach((s, i) => expect(s * s, `σ${i}²`).to.be.closeTo(ref[i]! ** 2, 1e-12 * top));
      for (let i = 1; i < ours.length; i++) expect(ours[i]!).to.be.at.most(ours[i - 1]!);
      const energy = ours.reduce((s, x) => s + x * x, 0);
      expect(energy).to.be.closeTo(frobenius(a) ** 2, 1e-12 * energy);
    });

    it(`${name}: vectors rebuild A and are orthonormal`, async () => {
      const ours = svd.singularVectors(await stage(a), rows, cols);
      const ref = singularVectorsReference(a, rows, cols);
      ours.values.forEach((s, i) => expect(s * s).to.be.closeTo(ref.values[i]! ** 2, 1e-12 * ref.values[0]! ** 2));
      expect(reconstructionError(a, rows, cols, ours)).to.be.below(1e-6);
      expect(reconstructionError(a, rows, cols, ref)).to.be.below(1e-6);
      // Both sides orthonormal over the directions A has (σ well above the Gram's resolution).
      const rank = ours.values.filter((s) => s > 1e-6 * ours.values[0]!).length;
      expect(orthonormalityError(ours.left, rows, rank), 'U').to.be.below(1e-8);
      expect(orthonormalityError(ours.right, cols, rank), 'V').to.be.below(1e-8);
    });
  }

  it('rank-deficient: the values past the rank are at the Gram resolution, √(s·ε)·σ_max', async () => {
    const a = lowRank(20, 30, 4, 4);
    const values = svd.singularValues(await stage(a), 20, 30);
    expect(values[3]! / values[0]!).to.be.above(1e-3);
    for (const s of values.subarray(4)) expect(s).to.be.below(Math.sqrt(20 * Number.EPSILON) * values[0]!);
  });

  it('a zero matrix, one element, an empty one', async () => {
    expect(Array.from(svd.singularValues(await stage(new Float32Array(35)), 5, 7))).to.deep.equal([0, 0, 0, 0, 0]);
    const zero = svd.singularVectors(await stage(new Float32Array(12)), 4, 3);
    expect(Array.from(zero.values)).to.deep.equal([0, 0, 0]);
    expect(zero.left.every((x) => x === 0)).to.equal(true, 'no direction to point u along');
    expect(Array.from(svd.singularValues(await stage(Float32Array.of(-3)), 1, 1))).to.deep.equal([3]);
    const one = svd.singularVectors(await stage(Float32Array.of(-3)), 1, 1);
    expect(one.values[0]! * one.left[0]! * one.right[0]!).to.equal(-3);
    expect(svd.singularValues(await stage(new Float32Array(0)), 0, 5).length).to.equal(0);
  });

  it('NaN or ±Inf: a BAD_TENSOR error naming the tensor, for values and vectors', async () => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      const a = randomWeights(50, 11);
      a[37] = bad;
      const staged = await stage(a);
      const error = await rejects(
        Promise.resolve().then(() => svd.singularValues(staged, 5, 10)),
        'BAD_TENSOR',
      );
      expect(error.message).to.contain('tensor "w"').and.contain('NaN');
      await rejects(
        Promise.resolve().then(() => svd.singularVectors(staged, 10, 5)),
        'BAD_TENSOR',
      );
    }
  });

  it('a NaN or ±Inf Gram matrix (what the NaN check keeps out) ends after 30·n QL steps, never hangs', async () => {
    const wasm = await instantiateKernels();
    const n = 6;
    const base = wasm.memory.buffer.byteLength; // past everything in use
    wasm.memory.grow(1);
    const [d, e, work, w] = [base + n * n * 8, base + n * n * 8 + n * 8, base + n * n * 8 + n * 16, base + n * n * 16];
    for (const bad of [NaN, Infinity]) {
      for (const vectors of [0, w]) {
        const g = new Float64Array(wasm.memory.buffer, base, n * n).fill(0.5);
        g[2 * n + 1] = bad;
        expect(wasm.symmetricEigen(base, n, d, e, work, vectors)).to.equal(-1);
        const reference = Float64Array.from({ length: n * n }, (_, i) => (i === 2 * n + 1 ? bad : 0.5));
        const error = (() => {
          try {
            symmetricEigenReference(reference, n, vectors !== 0);
          } catch (caught) {
            return caught;
          }
        })();
        expect(error).to.be.instanceOf(WeightlensError).with.property('code', 'INTERNAL');
      }
    }
  });

  it('a shape that does not cover the staged values, and a Gram side past the cap', async () => {
    const staged = await stage(new Float32Array(12));
    await rejects(
      Promise.resolve().then(() => svd.singularValues(staged, 5, 3)),
      'BAD_TENSOR',
    );
    const side = MAX_GRAM_SIDE + 1;
    const big = await k.stage(side * side, () => {}, { tensor: 'big' });
    const error = await rejects(
      Promise.resolve().then(() => svd.singularValues(big, side, side)),
      'OUT_OF_MEMORY',
    );
    expect(error.message).to.contain('tensor "big"').and.contain(String(MAX_GRAM_SIDE));
  });

  it('the Spatial SVD matrix [Cout·kh, Cin·kw] takes W[o, c, y, x] to (o·kh + y, c·kw + x)', () => {
    const [cout, cin, kh, kw] = [2, 3, 4, 5];
    const w = Float32Array.from({ length: cout * cin * kh * kw }, (_, i) => i);
    const m = new Float32Array(w.length);
    spatialMatrix(w, [cout, cin, kh, kw], m);
    const at = (o: number, c: number, y: number, x: number) => ((o * cin + c) * kh + y) * kw + x;
    expect(m[(1 * kh + 2) * cin * kw + 2 * kw + 3]).to.equal(at(1, 2, 2, 3));
    expect(m[(0 * kh + 3) * cin * kw + 1 * kw + 0]).to.equal(at(0, 1, 3, 0));
    expect([...m].sort((a, b) => a - b)).to.deep.equal([...w]);
  });
});
