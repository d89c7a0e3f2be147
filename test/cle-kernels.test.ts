// The CLE kernels (assembly/run-absmax.ts, grid-absmax.ts, scale-runs.ts, scale-grid.ts, run-sums.ts) against their scalar
// twins (assembly/cle-scalar.ts) and the twins against the definitions, for run lengths around the SIMD
// width; and the shared Wasm memory: CLE kernels interleaved with statistics kernels give both the right
// answers (Kernels.exclusive).
import { describe, it, before } from 'node:test';
import { expect } from 'chai';
import { namingTensor, WeightlensError } from '../src/errors.js';
import { Kernels } from '../src/kernels/kernels.js';
import { CleKernels } from '../src/kernels/cle-kernels.js';
import { rejects } from './support/rejects.js';
import { randomWeights } from './support/random.js';

const RUN_LENGTHS = [1, 2, 3, 4, 5, 7, 8, 9, 16, 25, 37];

describe('CLE kernels: SIMD against the scalar twins', () => {
  let k: CleKernels;
  before(async () => {
    k = await CleKernels.load();
  });

  for (const runLength of RUN_LENGTHS) {
    const runs = 29;
    const data = () => {
      const w = randomWeights(runs * runLength, 100 + runLength, 0, 3);
      w[0] = NaN; // never the maximum
      w[w.length - 1] = -0;
      if (runLength > 2) w[runLength + 1] = -1e30; // a large negative value wins its run
      return w;
    };

    it(`runAbsMax: identical results, and the definition (runs of ${runLength})`, async () => {
      const w = data();
      const simd = await k.runAbsMax(w, runLength, 'simd');
      const scalar = await k.runAbsMax(w, runLength, 'scalar');
      expect(Array.from(simd)).to.deep.equal(Array.from(scalar));
      for (let r = 0; r < runs; r++) {
        const run = Array.from(w.subarray(r * runLength, (r + 1) * runLength), Math.abs).filter(
          (v) => !Number.isNaN(v),
        );
        expect(scalar[r], `run ${r}`).to.equal(Math.max(0, ...run));
      }
    });

    it(`runSums: f64 sums agree with the in-order scalar sum (runs of ${runLength})`, async () => {
      const w = data();
      w[0] = 0.25;
      const simd = await k.runSums(w, runLength, 'simd');
      const scalar = await k.runSums(w, runLength, 'scalar');
      for (let r = 0; r < runs; r++) {
        let exact = 0,
          magnitude = 0;
        for (let e = r * runLength; e < (r + 1) * runLength; e++) {
          exact += w[e]!;
          magnitude += Math.abs(w[e]!);
        }
        expect(scalar[r], `run ${r}`).to.equal(exact); // same order, same f64 arithmetic
        expect(simd[r]).to.be.closeTo(exact, 1e-15 * magnitude);
      }
    });

    it(`scaleRuns and scaleGrid: bit-identical to the twins and to float32 arithmetic (runs of ${runLength})`, async () => {
      const [rows, cols] = [runs, 1];
      const w = data();
      const factors = Float32Array.from({ length: runs }, (_, r) => 0.3 + r / 5);
      const [a, b] = [w.slice(), w.slice()];
      await k.scaleRuns(a, runLength, factors, 'simd');
      await k.scaleRuns(b, runLength, factors, 'scalar');
      expect(Array.from(a)).to.deep.equal(Array.from(b));
      for (let e = 0; e < w.length; e++) {
        const want = Math.fround(w[e]! * factors[Math.floor(e / runLength)]!);
        if (Number.isNaN(want)) expect(a[e]).to.be.NaN;
        else expect(a[e]).to.equal(want);
      }
      // The same weights as a [rows, cols] grid of runs, and as [1, runs].
      for (const [r, c] of [
        [rows, cols],
        [1, runs],
      ] as const) {
        const rowF = Float32Array.from({ length: r }, (_, i) => 1 / (i + 1.5));
        const colF = Float32Array.from({ length: c }, (_, i) => 0.75 + i / 3);
        const [g1, g2] = [w.slice(), w.slice()];
        await k.scaleGrid(g1, runLength, rowF, colF, 'simd');
        await k.scaleGrid(g2, runLength, rowF, colF, 'scalar');
        expect(Array.from(g1)).to.deep.equal(Array.from(g2));
      }
    });
  }

  for (const [rows, cols] of [
    [1, 1],
    [3, 5],
    [7, 8],
    [6, 37],
  ] as const) {
    it(`gridAbsMax [${rows}, ${cols}]: SIMD equals the twin, and each row's and column's max |w|`, async () => {
      const w = randomWeights(rows * cols, 7 * rows + cols, 0, 3);
      w[0] = NaN; // never the maximum
      w[w.length - 1] = -1e30; // a large negative value wins its row and column
      if (w.length > 2) w[1] = -0;
      const simd = await k.gridAbsMax(w, rows, cols, 'simd');
      const scalar = await k.gridAbsMax(w, rows, cols, 'scalar');
      expect([Array.from(simd.rowMax), Array.from(simd.colMax)]).to.deep.equal([
        Array.from(scalar.rowMax),
        Array.from(scalar.colMax),
      ]);
      const max = (values: number[]) => Math.max(0, ...values.map(Math.abs).filter((v) => !Number.isNaN(v)));
      for (let a = 0; a < rows; a++)
        expect(scalar.rowMax[a], `row ${a}`).to.equal(max(Array.from(w.subarray(a * cols, (a + 1) * cols))));
      for (let b = 0; b < cols; b++)
        expect(scalar.colMax[b], `column ${b}`).to.equal(max(Array.from({ length: rows }, (_, a) => w[a * cols + b]!)));
    });
  }

  it('scaleGrid on a wide grid (SIMD across columns when runs are single weights)', async () => {
    const [rows, cols] = [5, 67];
    const w = randomWeights(rows * cols, 9, 0, 1);
    const rowF = Float32Array.from({ length: rows }, (_, i) => 2 ** i);
    const colF = Float32Array.from({ length: cols }, (_, i) => 1 + i / 64);
    const [a, b] = [w.slice(), w.slice()];
    await k.scaleGrid(a, 1, rowF, colF, 'simd');
    await k.scaleGrid(b, 1, rowF, colF, 'scalar');
    expect(Array.from(a)).to.deep.equal(Array.from(b));
    expect(a[2 * cols + 3]).to.equal(Math.fround(Math.fround(w[2 * cols + 3]! * colF[3]!) * rowF[2]!));
  });

  it('refuses runs that do not divide the weights, and a grid that does not cover them: BAD_TENSOR before any kernel runs', async () => {
    const runs = await rejects(k.runAbsMax(new Float32Array(10), 3), 'BAD_TENSOR');
    await rejects(k.gridAbsMax(new Float32Array(10), 3, 3), 'BAD_TENSOR');
    expect(runs.message).to.equal('runs of 3 do not divide 10 weights');
    await rejects(k.runSums(new Float32Array(0), 0), 'BAD_TENSOR'); // a zero-size kernel dim
    const grid = await rejects(
      k.scaleGrid(new Float32Array(12), 2, new Float32Array(2), new Float32Array(2)),
      'BAD_TENSOR',
    );
    expect(grid.message).to.equal('a [2, 2, 2] grid does not cover 12 weights');
  });

  it('a refusal met while CLE works on a layer names the file and the tensor (namingTensor)', async () => {
    const named = await rejects(
      namingTensor('m.onnx', 'conv1.weight', () => k.runAbsMax(new Float32Array(10), 3)),
      'BAD_TENSOR',
    );
    expect(named.message).to.equal('m.onnx: tensor "conv1.weight": runs of 3 do not divide 10 weights');
    expect([named.file, named.tensor]).to.deep.equal(['m.onnx', 'conv1.weight']);
    // An error that already names its tensor, and one that is not ours, pass unchanged.
    const own = new WeightlensError('BAD_TENSOR', 'x.onnx: "w" is short', { file: 'x.onnx', tensor: 'w' });
    expect(await namingTensor('m.onnx', 'other', () => Promise.reject(own)).catch((e: unknown) => e)).to.equal(own);
    const bug = new RangeError('invalid array length');
    expect(await namingTensor('m.onnx', 'other', () => Promise.reject(bug)).catch((e: unknown) => e)).to.equal(bug);
  });
});

describe('CLE kernels share Wasm memory with the statistics kernels', () => {
  it('interleaved calls never see each other’s staged tensor', async () => {
    const stats = await Kernels.load();
    const cle = await CleKernels.load(stats);
    const big = randomWeights(50_000, 1, 0, 1);
    const small = randomWeights(300, 2, 5, 1);
    const statsTask = stats.exclusive(async () => {
      const staged = await stats.stage(small.length, async (dest) => {
        await new Promise((resolve) => setTimeout(resolve, 5)); // a read that takes time
        dest.set(small);
      });
      return stats.channelStats(staged, { groups: 1, outer: 1, cg: 3, inner: 100 });
    });
    const [ranges, result] = await Promise.all([cle.runAbsMax(big, 50), statsTask]);
    expect(result.max[0]).to.equal(Math.max(...small.subarray(0, 100)));
    expect(ranges[0]).to.equal(Math.max(...Array.from(big.subarray(0, 50), Math.abs)));
  });
});
