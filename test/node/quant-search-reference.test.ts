// The clipping search and HQQ kernels against test/reference/quant_search.py (numpy, written from
// docs/definitions.md): the same chosen clip steps, scales and integer zero points, SQNR before and after
// within 0.01 dB, per channel, per tensor and per block (a short last block among them), INT8 and INT4.
import { after, before, describe, it } from 'node:test';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { Kernels, type IntegerRange } from '../../src/kernels/kernels.js';
import type { QuantGrid } from '../../src/kernels/quantizer.js';
import { QuantSearchKernels } from '../../src/kernels/quant-search-kernels.js';
import { PYTHON } from '../support/node-paths.js';
import { randomWeights, seededRandom } from '../support/random.js';

interface NumpyResult {
  steps?: number[];
  iterations?: number;
  scales: number[];
  zeroPoints: number[];
  floatZeroPoints?: number[];
  floatNoise?: number;
  signal: number;
  minMaxNoise: number;
  noise: number;
}

const sqnr = (signal: number, noise: number) => 10 * Math.log10(signal / noise);
const sum = (a: Float64Array) => a.reduce((s, x) => s + x, 0);

/** Student-t-like values (normal over a random spread): heavy tails, where clipping chooses r < 1. */
function heavyTailed(size: number, seed: number): Float32Array {
  const rand = seededRandom(seed);
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) out[i] = (0.05 * (rand() + rand() + rand() - 1.5)) / Math.max(0.05, rand());
  return out;
}

describe('clipping search and HQQ agree with numpy', () => {
  let dir: string, k: Kernels, search: QuantSearchKernels;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'weightlens-search-'));
    k = await Kernels.load();
    search = await QuantSearchKernels.load(k);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function numpy(data: Float32Array, job: object): Promise<NumpyResult> {
    const [values, jobFile] = [join(dir, 'values.f32'), join(dir, 'job.json')];
    writeFileSync(values, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    writeFileSync(jobFile, JSON.stringify(job));
    const { stdout } = await promisify(execFile)(PYTHON, ['test/reference/quant_search.py', values, jobFile], {
      maxBuffer: 64 << 20,
    });
    return JSON.parse(stdout) as NumpyResult;
  }

  const grids: [string, QuantGrid][] = [
    ['Conv [16, 8, 3, 3] per channel', { kind: 'channel', layout: { groups: 1, outer: 1, cg: 16, inner: 72 } }],
    ['MatMul [96, 24] per channel', { kind: 'channel', layout: { groups: 1, outer: 96, cg: 24, inner: 1 } }],
    ['MatMul [100, 24] blocks of 32', { kind: 'block', layout: { mats: 1, rows: 100, cols: 24 }, block: 32 }],
    ['Gemm transB=1 [8, 160] blocks of 64', { kind: 'block', layout: { mats: 8, rows: 160, cols: 1 }, block: 64 }],
  ];
  const ranges: IntegerRange[] = [
    { qmin: -127, qmax: 127 },
    { qmin: 0, qmax: 255 },
    { qmin: -7, qmax: 7 },
    { qmin: 0, qmax: 15 },
  ];

  for (const [name, grid] of grids) {
    it(`clipping search: ${name}`, async () => {
      const n =
        grid.kind === 'channel'
          ? grid.layout.groups * grid.layout.outer * grid.layout.cg * grid.layout.inner
          : grid.layout.mats * grid.layout.rows * grid.layout.cols;
      let clipped = 0;
      for (const data of [randomWeights(n, 7, 0.01, 0.3), heavyTailed(n, 8)]) {
        const staged = await k.stage(data.length, (d) => d.set(data));
        for (const range of ranges) {
          for (const perTensor of grid.kind === 'channel' ? [false, true] : [false]) {
            const where = `${name} [${range.qmin}, ${range.qmax}]${perTensor ? ' per tensor' : ''}`;
            const ours = search.clipSearch(staged, grid, range, { perTensor })!;
            const ref = await numpy(data, { grid, ...range, mode: perTensor ? 'tensor' : 'clip' });
            expect(Array.from(ours.steps), `${where} steps`).to.deep.equal(ref.steps);
            clipped += ours.steps.filter((step) => step > 0).length;
            const E = ours.steps.length;
            expect(Array.from(ours.quantizer.scales.subarray(0, E)), `${where} scales`).to.deep.equal(ref.scales);
            expect(Array.from(ours.quantizer.zeroPoints.subarray(0, E)), `${where} zp`).to.deep.equal(ref.zeroPoints);
            const signal = sum(ours.signal);
            expect(sqnr(signal, sum(ours.minMaxNoise)), where).to.be.closeTo(sqnr(ref.signal, ref.minMaxNoise), 0.01);
            expect(sqnr(signal, sum(ours.noise)), where).to.be.closeTo(sqnr(ref.signal, ref.noise), 0.01);
          }
        }
      }
      expect(clipped, 'entries clipped (r < 1)').to.be.above(0);
    });
  }

  for (const [name, grid] of grids) {
    if (grid.kind !== 'block') continue;
    it(`HQQ zero points: ${name}`, async () => {
      const n = grid.layout.mats * grid.layout.rows * grid.layout.cols;
      let refined = 0;
      const gains: string[] = [];
      for (const data of [randomWeights(n, 9, 0.02, 0.3), heavyTailed(n, 10)]) {
        const staged = await k.stage(data.length, (d) => d.set(data));
        for (const qmax of [15, 255]) {
          const where = `${name} [0, ${qmax}]`;
          const ours = search.hqq(staged, grid, { qmin: 0, qmax })!;
          const ref = await numpy(data, { grid, qmin: 0, qmax, mode: 'hqq' });
          expect(ours.iterations, where).to.equal(ref.iterations);
          expect(Array.from(ours.quantizer.scales), `${where} scales`).to.deep.equal(ref.scales);
          expect(Array.from(ours.quantizer.zeroPoints), `${where} zp`).to.deep.equal(ref.zeroPoints);
          refined += ours.noise.filter((x, e) => x < ours.startNoise[e]!).length;
          ours.floatZeroPoints.forEach((z, e) =>
            expect(z, `${where} float zp`).to.be.closeTo(ref.floatZeroPoints![e]!, 1e-5),
          );
          const signal = sum(ours.signal);
          expect(sqnr(signal, sum(ours.startNoise)), where).to.be.closeTo(sqnr(ref.signal, ref.minMaxNoise), 0.01);
          expect(sqnr(signal, sum(ours.noise)), where).to.be.closeTo(sqnr(ref.signal, ref.noise), 0.01);
          const floatSqnr = sqnr(signal, sum(ours.floatNoise));
          expect(floatSqnr, `${where} float zero points`).to.be.closeTo(sqnr(ref.signal, ref.floatNoise!), 0.01);
          gains.push(`[0, ${qmax}] ${(floatSqnr - sqnr(signal, sum(ours.startNoise))).toFixed(2)} dB`);
        }
      }
      console.log(
        `${name}: HQQ kept ${refined} integer zero points; float zero points vs min-max: ${gains.join(', ')}`,
      );
    });
  }
});
