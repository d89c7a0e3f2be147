// The per-group (blocked) quantization error kernel (assembly/block-quant-error.ts): the definition written
// out in plain JS with quantParams (the per-channel scales' own helper), SIMD against its scalar twin, sums
// over chunks of whole blocks adding up to the tensor's (what streaming relies on), and typed refusals.
import { describe, it, before } from 'node:test';
import { expect } from 'chai';
import { Kernels, type BlockErrorSums, type BlockLayout, type ErrorSums } from '../src/kernels/kernels.js';
import { quantParams, roundHalfEven } from '../src/kernels/quantizer.js';
import { QUANTIZER_RANGES, QUANTIZERS } from '../src/pipeline/quant-error.js';
import { randomWeights, seededRandom } from './support/random.js';
import { rejects } from './support/rejects.js';

const size = ({ mats, rows, cols }: BlockLayout) => mats * rows * cols;

/** Block by block as docs/definitions.md says, scales from quantParams, q(x) in float32, sums in float64. */
function reference(data: Float32Array, { mats, rows, cols }: BlockLayout, block: number): ErrorSums {
  const f = Math.fround;
  let signal = 0;
  const noise = QUANTIZERS.map(() => 0);
  for (let m = 0; m < mats; m++) {
    for (let r0 = 0; r0 < rows; r0 += block) {
      for (let c = 0; c < cols; c++) {
        const xs: number[] = [];
        for (let r = r0; r < Math.min(rows, r0 + block); r++) xs.push(data[(m * rows + r) * cols + c]!);
        const [lo, hi] = [Math.min(0, ...xs), Math.max(0, ...xs)];
        for (const x of xs) signal += x * x;
        QUANTIZERS.forEach(([bits, symmetric], i) => {
          const { scale, zeroPoint, qmin, qmax } = quantParams(bits, symmetric, lo, hi, Math.max(-lo, hi));
          for (const x of xs) {
            const q = f(
              f(Math.min(Math.max(f(roundHalfEven(f(x / scale)) + zeroPoint), qmin), qmax) - zeroPoint) * scale,
            );
            noise[i]! += f(x - q) ** 2;
          }
        });
      }
    }
  }
  return { signal, noise };
}

function expectClose(got: ErrorSums, want: ErrorSums, relative: number, where: string) {
  expect(got.signal, `${where} signal`).to.be.closeTo(want.signal, relative * want.signal);
  want.noise.forEach((n, i) => expect(got.noise[i], `${where} noise ${i}`).to.be.closeTo(n, relative * n));
}

/** Layouts of the ops (docs/definitions.md): the input axis is `rows`, not always a multiple of the block. */
const LAYOUTS: [string, BlockLayout][] = [
  ['MatMul / Gemm transB=0 [70, 13]', { mats: 1, rows: 70, cols: 13 }],
  ['Gemm transB=1 [7, 100]', { mats: 7, rows: 100, cols: 1 }],
  ['Conv [5, 45, 3, 3]', { mats: 5, rows: 45, cols: 9 }],
  ['grouped ConvTranspose [2 groups × 33, 4·2·2]', { mats: 2, rows: 33, cols: 16 }],
  ['depthwise Conv [6, 1, 3, 3]', { mats: 6, rows: 1, cols: 9 }],
];

describe('per-group quantization error kernel', () => {
  let k: Kernels;
  before(async () => {
    k = await Kernels.load();
  });

  /** Each block size's sums against the definition (and the scalar twin's, tighter). */
  function expectBlocks(got: BlockErrorSums, want: ErrorSums[], relative: number, where: string) {
    want.forEach((w, i) => expectClose({ signal: got.signal, noise: got.noise[i]! }, w, relative, `${where} #${i}`));
  }

  /** Block sizes one call takes: alone, chains that divide one another (one pass), and sets that do not. */
  const BLOCK_SETS = [[32], [7], [1], [1000], [32, 64, 128], [4, 8, 16, 48], [128, 32, 64], [1, 7, 14, 1000], [16, 24]];

  for (const [name, layout] of LAYOUTS) {
    it(`matches the definition and its scalar twin: ${name}`, async () => {
      const data = randomWeights(size(layout), 17, 0.01, 1);
      data[2] = 0; // an all-zero block must come out exact, not NaN
      const staged = await k.stage(data.length, (d) => d.set(data));
      for (const blocks of BLOCK_SETS) {
        const where = `${name} blocks ${blocks}`;
        const simd = k.blockQuantError(staged, layout, blocks, QUANTIZER_RANGES);
        const scalar = k.blockQuantError(staged, layout, blocks, QUANTIZER_RANGES, 'scalar');
        const want = blocks.map((block) => reference(data, layout, block));
        expectBlocks(scalar, want, 1e-12, `${where} scalar`);
        // float32 squares in the SIMD sums
        expectBlocks(
          simd,
          blocks.map((_, i) => ({ signal: scalar.signal, noise: scalar.noise[i]! })),
          1e-6,
          `${where} SIMD`,
        );
      }
    });
  }

  it('matches the definition on random shapes and block sizes', async () => {
    const rand = seededRandom(41);
    const int = (n: number) => 1 + Math.floor(rand() * n);
    for (let trial = 0; trial < 30; trial++) {
      const layout = { mats: int(4), rows: int(300), cols: trial % 3 ? int(40) : 1 };
      const b0 = int(40);
      const blocks = [b0, b0 * int(3), b0 * int(3) * 4];
      const data = randomWeights(size(layout), trial, 0, 0.5);
      const got = k.blockQuantError(await k.stage(data.length, (d) => d.set(data)), layout, blocks, QUANTIZER_RANGES);
      expectBlocks(
        got,
        blocks.map((block) => reference(data, layout, block)),
        1e-6,
        `${JSON.stringify(layout)} ${blocks}`,
      );
    }
  });

  it('a symmetric range wide enough for its largest values to round past qmax keeps the clamp (qmax 2^23 − 1)', async () => {
    const wide = [{ qmin: 1 - 2 ** 23, qmax: 2 ** 23 - 1 }];
    for (const layout of [
      { mats: 1, rows: 256, cols: 64 },
      { mats: 64, rows: 256, cols: 1 },
    ]) {
      const data = randomWeights(size(layout), 23, 0, 0.7);
      const staged = await k.stage(data.length, (d) => d.set(data));
      const simd = k.blockQuantError(staged, layout, [32, 64], wide);
      const scalar = k.blockQuantError(staged, layout, [32, 64], wide, 'scalar');
      simd.noise.forEach((n, i) =>
        expect(n[0], `${JSON.stringify(layout)} #${i}`).to.be.closeTo(
          scalar.noise[i]![0]!,
          1e-6 * scalar.noise[i]![0]!,
        ),
      );
    }
  });

  it('a block of subnormal weights and zeros (1/scale overflows float32) adds no NaN', async () => {
    for (const layout of [
      { mats: 1, rows: 64, cols: 5 },
      { mats: 3, rows: 64, cols: 1 },
    ]) {
      const data = randomWeights(size(layout), 9, 0, 0.2);
      for (let i = 0; i < 32 * layout.cols; i++) data[i] = i % 3 ? i * 1e-43 : 0; // the first block row
      const staged = await k.stage(data.length, (d) => d.set(data));
      for (const variant of ['simd', 'scalar'] as const) {
        const got = k.blockQuantError(staged, layout, [32, 64], QUANTIZER_RANGES, variant);
        expectBlocks(got, [reference(data, layout, 32), reference(data, layout, 64)], 1e-6, variant);
      }
    }
  });

  it('gives sums over chunks of whole blocks that add up to the whole tensor’s', async () => {
    const cases: [BlockLayout, number[], BlockLayout[]][] = [
      // MatMul [96, 20], blocks 16 and 32: rows 0–31, then 32–95.
      [
        { mats: 1, rows: 96, cols: 20 },
        [16, 32],
        [
          { mats: 1, rows: 32, cols: 20 },
          { mats: 1, rows: 64, cols: 20 },
        ],
      ],
      // Conv [6, 40, 3, 3], block 32 (the last block of each kernel row is 8 long): output channels 0–1, 2–5.
      [
        { mats: 6, rows: 40, cols: 9 },
        [32],
        [
          { mats: 2, rows: 40, cols: 9 },
          { mats: 4, rows: 40, cols: 9 },
        ],
      ],
      // Gemm transB=1 [4, 50], blocks 8 and 16: rows 0–2, 3.
      [
        { mats: 4, rows: 50, cols: 1 },
        [8, 16],
        [
          { mats: 3, rows: 50, cols: 1 },
          { mats: 1, rows: 50, cols: 1 },
        ],
      ],
    ];
    for (const [whole, blocks, chunks] of cases) {
      const data = randomWeights(size(whole), 5, 0, 0.3);
      const all = k.blockQuantError(await k.stage(data.length, (d) => d.set(data)), whole, blocks, QUANTIZER_RANGES);
      const summed: BlockErrorSums = { signal: 0, noise: blocks.map(() => QUANTIZER_RANGES.map(() => 0)) };
      let offset = 0;
      for (const chunk of chunks) {
        const part = data.subarray(offset, (offset += size(chunk)));
        const sums = k.blockQuantError(await k.stage(part.length, (d) => d.set(part)), chunk, blocks, QUANTIZER_RANGES);
        summed.signal += sums.signal;
        sums.noise.forEach((ns, b) => ns.forEach((n, i) => (summed.noise[b]![i]! += n)));
      }
      expectBlocks(
        summed,
        blocks.map((_, b) => ({ signal: all.signal, noise: all.noise[b]! })),
        1e-13,
        JSON.stringify(whole),
      );
    }
  });

  describe('refuses with typed errors before touching memory', () => {
    const label = { file: 'm.onnx', tensor: 'w' };

    it('a layout that does not cover the staged tensor is BAD_TENSOR naming file and tensor', async () => {
      const staged = await k.stage(12, (d) => void d.fill(1), label);
      const e = await rejects(
        Promise.resolve().then(() => k.blockQuantError(staged, { mats: 1, rows: 4, cols: 4 }, [32], QUANTIZER_RANGES)),
        'BAD_TENSOR',
      );
      expect(e.message).to.equal('m.onnx: tensor "w": its 12 elements do not form 1 × 4 input rows × 4');
      expect(e).to.include({ file: 'm.onnx', tensor: 'w' });
    });

    it('a block size that is not a positive integer, or an integer range of neither kind, is USAGE', async () => {
      const staged = await k.stage(12, (d) => void d.fill(1), label);
      const layout = { mats: 1, rows: 12, cols: 1 };
      for (const block of [0, -32, 1.5, NaN, 2 ** 31]) {
        const e = await rejects(
          Promise.resolve().then(() => k.blockQuantError(staged, layout, [32, block], QUANTIZER_RANGES)),
          'USAGE',
        );
        expect(e.message).to.equal(`m.onnx: tensor "w": block size ${block} is not a positive integer`);
      }
      for (const range of [
        { qmin: -3, qmax: 7 },
        { qmin: 0, qmax: 0 },
        { qmin: 0, qmax: 2.5 },
      ]) {
        await rejects(
          Promise.resolve().then(() => k.blockQuantError(staged, layout, [4], [range])),
          'USAGE',
        );
      }
    });
  });
});
