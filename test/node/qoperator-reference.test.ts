// Real PaddleOCR models turned into QOperator models by test/reference/qoperator_model.py (numpy: int8
// per-channel QLinearConv, uint8 per-tensor QLinearMatMul, int32 biases): our statistics and SQNR on the
// dequantized weights agree with channel_stats.py, the model's own scales and zero points come back exactly
// as written, and `weightlens stats` / `cle` / `report` handle the model as a user would run them.
import { after, before, describe, it } from 'node:test';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { findWeightLayers } from '../../src/analysis/layers.js';
import { openModelFile } from '../../src/node/open-file.js';
import { computeStats } from '../../src/pipeline/compute-stats.js';
import { type StatsReport } from '../../src/report/stats-report.js';
import { PYTHON, realModel } from '../support/node-paths.js';
import { expectSameLayers, expectSameSqnr, expectSameStats, numpyStats } from '../support/numpy-compare.js';
import { tensorValues } from '../support/tensors.js';
import { cli } from '../support/cli.js';

interface Written {
  scales: number[];
  zeroPoints: number[];
  bias: number[] | null;
}

const MODELS = ['ch_PP-OCRv4_rec_infer.onnx', 'ch_ppocr_mobile_v2.0_cls_infer.onnx'];

describe('QOperator models made from real PaddleOCR models', () => {
  let dir: string;
  const quantized = new Map<string, { path: string; written: Record<string, Written> }>();
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'weightlens-qop-'));
    for (const file of MODELS) {
      const path = join(dir, file.replace('.onnx', '.qop.onnx'));
      const stdout = execFileSync(PYTHON, ['test/reference/qoperator_model.py', realModel(file), path], {
        encoding: 'utf8',
        maxBuffer: 64 << 20,
      });
      quantized.set(file, { path, written: (JSON.parse(stdout) as { layers: Record<string, Written> }).layers });
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const file of MODELS) {
    it(`${file}: statistics and SQNR of the dequantized weights agree with numpy; the scales are the file's`, async () => {
      const { path, written } = quantized.get(file)!;
      const [ours, reference] = await Promise.all([
        openModelFile(path).then((m) => computeStats(m, { quant: true })),
        numpyStats(path, true),
      ]);
      expectSameLayers(ours.layers, reference);
      expect(ours.layers.map((l) => l.name)).to.have.members(Object.keys(written));
      expect(ours.layers.filter((l) => l.op === 'QLinearConv').length).to.be.greaterThan(10);
      expect(ours.layers.some((l) => l.op === 'QLinearMatMul')).to.equal(true);
      let compared = 0;
      ours.layers.forEach((layer, i) => {
        const where = `${file} layer ${layer.name}`;
        expectSameStats(layer, reference[i]!, where);
        compared += expectSameSqnr(layer, reference[i]!.quant ?? null, where);
        const conv = layer.op === 'QLinearConv';
        expect(layer.modelQuantization, where).to.deep.equal({
          dtype: conv ? 'int8' : 'uint8',
          mode: conv ? 'axis' : 'tensor',
          axis: conv ? 0 : null,
          blockSize: 0,
          scales: written[layer.name]!.scales,
          zeroPoints: written[layer.name]!.zeroPoints,
        });
      });
      expect(compared).to.be.greaterThan(8 * 10);
    });

    it(`${file}: QLinearConv biases dequantize to int32 · x_scale·w_scale exactly`, async () => {
      const { path, written } = quantized.get(file)!;
      const layers = findWeightLayers(await openModelFile(path)).filter((l) => written[l.name]!.bias !== null);
      expect(layers.length).to.be.greaterThan(0);
      for (const layer of layers)
        expect(await tensorValues(layer.bias), layer.name).to.deep.equal(written[layer.name]!.bias);
    });
  }

  it('weightlens stats: the JSON and the table show the QOperator layers under their own op', () => {
    const { path } = quantized.get(MODELS[0]!)!;
    const json = cli('stats', path, '--json', '--quant');
    expect(json.status, json.stderr).to.equal(0);
    const report = JSON.parse(json.stdout) as StatsReport;
    expect(new Set(report.layers.map((l) => l.op))).to.deep.equal(new Set(['QLinearConv', 'QLinearMatMul']));
    expect(report.layers.every((l) => l.modelQuantization && l.quant)).to.equal(true);
    const table = cli('stats', path, '--quant');
    expect(table.status, table.stderr).to.equal(0);
    expect(table.stdout)
      .to.match(/^p2o\.Conv\.0 +QLinearConv /m)
      .and.match(/ QLinearMatMul /);
  });

  it('weightlens cle refuses, says why, and writes nothing; weightlens report leaves CLE out', () => {
    const { path } = quantized.get(MODELS[1]!)!;
    const output = join(dir, 'refused.onnx');
    const r = cli('cle', path, '-o', output);
    expect(r.status).to.equal(2);
    expect(r.stderr.trim().split('\n')).to.have.length(1);
    expect(r.stderr)
      .to.contain('apply CLE to the float model before quantization')
      .and.contain('QLinearConv')
      .and.contain('[USAGE]');
    expect(existsSync(output)).to.equal(false);
    const report = cli('report', path, '-o', join(dir, 'report.html'));
    expect(report.status, report.stderr).to.equal(0);
    expect(report.stderr).to.contain('no CLE section').and.contain('before quantization');
    expect(report.stdout).to.not.contain('with CLE');
  });
});
