// `weightlens stats` computes the SQNR figures by default: the JSON form (the shape), table
// columns, `--no-quant` to skip them, `--quant` still accepted, and `--block` for the per-group block sizes.
import { describe, it } from 'node:test';
import { expect } from 'chai';
import type { StatsReport } from '../../src/report/stats-report.js';
import { groupSqnr } from '../../src/report/quant-error.js';
import { realModel } from '../support/node-paths.js';
import { cli } from '../support/cli.js';

describe('weightlens stats: quantization error', () => {
  const model = realModel('ch_ppocr_mobile_v2.0_cls_infer.onnx');

  it('adds layers[].quant = { int8|int4: { symmetric|asymmetric: { perTensor, perChannel } } } in dB by default', () => {
    const r = cli('stats', model, '--json');
    expect(r.status, r.stderr).to.equal(0);
    const report = JSON.parse(r.stdout) as StatsReport;
    for (const layer of report.layers) {
      for (const bits of ['int8', 'int4'] as const) {
        for (const mode of ['symmetric', 'asymmetric'] as const) {
          const { perTensor, perChannel } = layer.quant![bits][mode];
          expect(perTensor, `${layer.name} ${bits} ${mode}`).to.be.a('number');
          // Per-channel scales are never coarser than the tensor's: at least as good (tiny rounding slack).
          expect(perChannel! + 1e-6).to.be.at.least(perTensor!);
        }
      }
      expect(layer.quant!.int8.symmetric.perTensor!).to.be.greaterThan(layer.quant!.int4.symmetric.perTensor!);
    }
    expect(JSON.parse(cli('stats', model, '--json', '--no-quant').stdout).layers[0].quant).to.equal(undefined);
    expect(JSON.parse(cli('stats', model, '--json', '--quant').stdout), '--quant is the default').to.deep.equal(report);
  });

  it('shows INT8 symmetric per-tensor / per-channel in the table; --no-quant ranks by relative range and says so', () => {
    const r = cli('stats', model, '--layer', 'p2o.Conv.0');
    expect(r.stdout).to.contain('INT8 dB t/ch');
    expect(r.stdout).to.match(/p2o\.Conv\.0 .* \d+\.\d\/\d+\.\d +\d+\.\d\n/);
    const without = cli('stats', model, '--no-quant');
    expect(without.stdout).to.not.contain('INT8 dB');
    expect(without.stdout).to.contain('no SQNR computed (--no-quant)');
    const both = cli('stats', model, '--quant', '--no-quant');
    expect(both.status).to.equal(2);
    expect(both.stderr).to.contain('--quant and --no-quant contradict each other');
  });

  it('adds per-group figures for blocks of 32, 64 and 128 by default, or those --block lists; the table shows INT4 g<smallest>', () => {
    const json = (...args: string[]) => JSON.parse(cli('stats', model, '--json', ...args).stdout) as StatsReport;
    const groups = (report: StatsReport) =>
      report.layers.map((l) => l.quant!.int8.asymmetric.perGroup!.map((g) => g.block));
    expect(new Set(groups(json()).map(String))).to.deep.equal(new Set(['32,64,128']));
    const report = json('--block', '48,16');
    expect(new Set(groups(report).map(String)), 'ascending').to.deep.equal(new Set(['16,48']));
    const conv0 = groupSqnr(report.layers.find((l) => l.name === 'p2o.Conv.0')!.quant!.int4.symmetric, 16)!;
    const table = cli('stats', model, '--layer', 'p2o.Conv.0', '--block', '48,16').stdout;
    expect(table).to.contain('INT4 g16');
    expect(table).to.match(new RegExp(`p2o\\.Conv\\.0 .* ${conv0.toFixed(1).replace('.', '\\.')}\n`));
  });

  it('refuses a --block that is not a list of distinct positive integers, or that has nothing to do, as USAGE', () => {
    for (const [args, message] of [
      [['--block', '0'], '--block takes block sizes (positive integers, comma-separated), not "0" in "0"'],
      [['--block', '32,x'], 'not "x" in "32,x"'],
      [['--block', '32,,64'], 'not "" in "32,,64"'],
      [['--block', '1.5'], 'not "1.5"'],
      [['--block', '2147483648'], 'not "2147483648"'],
      [['--block', '32,64,32'], '--block lists 32 twice'],
      [['--block', '32', '--no-quant'], '--block and --no-quant contradict each other'],
    ]) {
      const r = cli('stats', model, ...args!);
      expect(r.status, String(args)).to.equal(2);
      expect(r.stderr, String(args)).to.contain(message).and.contain('[USAGE]');
    }
    const cle = cli('cle', model, '-o', 'never-written.onnx', '--block', '32');
    expect(cle.status).to.equal(2);
    expect(cle.stderr).to.contain('--block is an option of "stats and quantize", not of "cle"');
  });
});
