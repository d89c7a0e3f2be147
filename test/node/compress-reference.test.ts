// Node-only: the compressibility figures (src/pipeline/compressibility.ts) against
// test/reference/compressibility.py (numpy's LAPACK SVD of each matrix, sorted magnitudes, input-channel L1
// norms) on every weight layer of the real PaddleOCR models: ranks for 99 % energy exactly, effective ranks
// and the error at every rank within 1e-6, pruning curves within 1e-9; and `weightlens stats --compress`.
import { describe, it } from 'node:test';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { findWeightLayers } from '../../src/analysis/layers.js';
import { PRUNED_SHARES } from '../../src/analysis/compression.js';
import { openModelFile } from '../../src/node/open-file.js';
import { compressibility } from '../../src/pipeline/compressibility.js';
import type { CompressReport } from '../../src/report/compress-report.js';
import { cli } from '../support/cli.js';
import { PYTHON, realModel } from '../support/node-paths.js';

interface Reference {
  svd: { rank99: number; effectiveRank: number; errors: number[] }[];
  pruning: number[];
  channelPruning: number[];
}

async function numpyFigures(layers: unknown[]): Promise<Reference[]> {
  const run = promisify(execFile)(PYTHON, ['test/reference/compressibility.py'], { maxBuffer: 512 << 20 });
  run.child.stdin!.end(JSON.stringify({ shares: PRUNED_SHARES, layers }));
  return (JSON.parse((await run).stdout) as { layers: Reference[] }).layers;
}

const MODELS = ['ch_PP-OCRv4_det_infer.onnx', 'ch_PP-OCRv4_rec_infer.onnx', 'ch_ppocr_mobile_v2.0_cls_infer.onnx'];

describe('compressibility against numpy', () => {
  for (const file of MODELS)
    it(`${file}: every layer's ranks, effective ranks, errors per rank and pruning curves`, async () => {
      const model = await openModelFile(realModel(file));
      const report = await compressibility(model);
      const layers = findWeightLayers(model);
      expect(report.layers.map((l) => l.name)).to.deep.equal(layers.map((l) => l.name));
      const jobs = await Promise.all(
        layers.map(async (layer, i) => {
          const values = new Float32Array(layer.weight.size);
          await layer.weight.readFloat32Into(values);
          const ours = report.layers[i]!;
          return {
            values: Array.from(values),
            shape: layer.weight.shape,
            weightMatrix: ours.weightSvd ? [ours.weightSvd.rows, ours.weightSvd.cols] : null,
            spatial: ours.spatialSvd !== null,
            channels: [layer.blocks.rows, layer.blocks.cols],
          };
        }),
      );
      const reference = await numpyFigures(jobs);
      let factorizations = 0;
      for (const [i, ours] of report.layers.entries()) {
        const ref = reference[i]!;
        const mine = [ours.weightSvd, ours.spatialSvd].filter((f) => f !== null);
        expect(mine.length, ours.name).to.equal(ref.svd.length);
        for (const [k, f] of mine.entries()) {
          factorizations++;
          expect(f.rank99, `${ours.name} rank99`).to.equal(ref.svd[k]!.rank99);
          expect(f.effectiveRank, `${ours.name} effective rank`).to.be.closeTo(
            ref.svd[k]!.effectiveRank,
            1e-6 * f.effectiveRank,
          );
          const errors = f.curve.map((p) => p.error);
          expect(errors.length).to.equal(ref.svd[k]!.errors.length);
          for (const [r, e] of errors.entries())
            expect(e, `${ours.name} error at rank ${r + 1}`).to.be.closeTo(ref.svd[k]!.errors[r]!, 1e-6);
        }
        if (ours.pruning)
          for (const [s, p] of ours.pruning.entries())
            expect(p.error, `${ours.name} pruning`).to.be.closeTo(ref.pruning[s]!, 1e-9);
        if (ours.channelPruning)
          for (const [s, p] of ours.channelPruning.entries())
            expect(p.error, `${ours.name} channels`).to.be.closeTo(ref.channelPruning[s]!, 1e-9);
      }
      expect(factorizations).to.be.greaterThan(20);
    });
});

describe('weightlens stats --compress', () => {
  const DET = realModel('ch_PP-OCRv4_det_infer.onnx');

  it('prints the table and the total at the chosen error; --json adds the report; --error takes a share', () => {
    const r = cli('stats', DET, '--compress', '--error', '10%');
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout.replace(/\s+/g, ' ')).to.match(
      /weight layers; within 10.0% relative weight error \(weight space, not accuracy\) the best choice per layer takes \d+ parameters to \d+/,
    );
    expect(r.stdout).to.contain('rank99 / eff.');
    const json = JSON.parse(cli('stats', DET, '--compress', '--json').stdout) as {
      compress: CompressReport;
      layers: unknown[];
    };
    expect(json.compress.error).to.equal(0.05);
    expect(json.compress.layers).to.have.length(json.layers.length);
    const { before, after } = json.compress.parameters;
    expect(after).to.be.at.most(before);
    for (const l of json.compress.layers) {
      expect(l.best.error).to.be.at.most(0.05);
      expect(l.best.parameters).to.be.at.most(l.parameters);
    }
  });

  it('refuses --error without --compress, or outside (0, 1)', () => {
    expect(cli('stats', DET, '--error', '0.1').stderr).to.contain('--error needs --compress');
    expect(cli('stats', DET, '--compress', '--error', '2').stderr).to.contain(
      '--error takes a relative weight error between 0 and 1',
    );
    expect(cli('cle', DET, '-o', '/tmp/never.onnx', '--compress').stderr).to.contain(
      '--compress is an option of "stats"',
    );
  });
});
