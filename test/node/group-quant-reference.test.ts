// Per-group (blocked) SQNR against test/reference/channel_stats.py (numpy, written from docs/definitions.md)
// within 0.01 dB, on generated weights of every layout whose input axis differs: MatMul (plain and batched),
// Gemm with transB 0 and 1, Conv (grouped, depthwise, an input axis that is no multiple of the block) and
// grouped ConvTranspose; default block sizes and others. The real models are in quant-reference.test.ts.
import { after, before, describe, it } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { openModelFile } from '../../src/node/open-file.js';
import { computeStats } from '../../src/pipeline/compute-stats.js';
import { groupSqnr } from '../../src/report/quant-error.js';
import { GraphBuilder, modelBytes } from '../fixtures/graph-builder.js';
import { expectSameLayers, expectSameSqnr, numpyReport } from '../support/numpy-compare.js';

/** One layer of each kind reading x; not meant to be run. Odd input-axis lengths (70, 45, 50, 100, 33). */
function blockedModel(): Uint8Array {
  const b = new GraphBuilder();
  b.node('MatMul', ['x', b.tensor('matmul.W', [70, 24], 0.5, 0.01, 3)]);
  b.node('MatMul', ['x', b.tensor('batched.W', [2, 40, 6], 0.3)]);
  b.node('Gemm', ['x', b.tensor('gemm.W', [50, 16], 1, 0.2)], { transB: 0 });
  b.node('Gemm', ['x', b.tensor('gemmT.W', [12, 100], 0.2, 0, 4)], { transB: 1 });
  b.node('Conv', ['x', b.tensor('conv.W', [6, 45, 3, 3], 0.4, 0, 3)]);
  b.node('Conv', ['x', b.tensor('grouped.W', [9, 4, 3, 3], 0.4)], { group: 3 });
  b.node('Conv', ['x', b.tensor('depthwise.W', [12, 1, 3, 3], 0.8)], { group: 12 });
  b.node('Conv', ['x', b.tensor('pointwise.W', [8, 200, 1, 1], 0.1, 0, 8)]);
  const last = b.node('ConvTranspose', ['x', b.tensor('deconv.W', [66, 3, 2, 2], 0.6)], { group: 2 });
  return modelBytes(b, 'blocked', ['x', [1, 12, 8, 8]], [last, [1, 6, 16, 16]]);
}

describe('per-group SQNR agrees with numpy (0.01 dB)', () => {
  let path: string, dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'weightlens-blocks-'));
    path = join(dir, 'blocked.onnx');
    writeFileSync(path, blockedModel());
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const blocks of [undefined, [5, 16, 45, 100]]) {
    it(`MatMul, Gemm, Conv (grouped, depthwise), ConvTranspose, blocks ${blocks?.join(',') ?? 'by default'}`, async () => {
      const [ours, reference] = await Promise.all([
        openModelFile(path).then((m) => computeStats(m, { quant: true, blocks })),
        numpyReport(path, true, blocks),
      ]);
      expectSameLayers(ours.layers, reference.layers);
      let compared = 0;
      ours.layers.forEach((layer, i) => (compared += expectSameSqnr(layer, reference.layers[i]!.quant!, layer.name)));
      const keys = blocks ?? [32, 64, 128];
      for (const layer of ours.layers)
        expect(layer.quant!.int4.asymmetric.perGroup!.map((g) => g.block)).to.deep.equal(keys);
      // Depthwise blocks hold one weight each: exact but for float rounding, which the comparison skips.
      expect(compared).to.be.at.least(ours.layers.length * 4 * (2 + keys.length) - 4 * keys.length);
    });
  }

  it('blocks at least as long as the input axis give the per-channel figure of a MatMul', async () => {
    const report = await openModelFile(path).then((m) => computeStats(m, { quant: true, blocks: [70, 1000] }));
    const matmul = report.layers[0]!.quant!.int4.symmetric;
    // The same scales; only the order of the float64 sums differs.
    expect(groupSqnr(matmul, 70)).to.be.closeTo(matmul.perChannel!, 1e-6);
    expect(groupSqnr(matmul, 1000)).to.be.closeTo(matmul.perChannel!, 1e-6);
  });
});
