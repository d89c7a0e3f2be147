// `weightlens stats` computes the SQNR figures by default: the JSON form (the shape), a table
// column, `--no-quant` to skip them, and `--quant` still accepted.
import { describe, it } from 'node:test';
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { StatsReport } from '../../src/report/stats-report.js';
import { ROOT, realModel } from '../support/node-paths.js';

const cli = (...args: string[]) =>
  spawnSync(process.execPath, [join(ROOT, 'bin/weightlens.js'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 256 << 20,
  });

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
    expect(r.stdout).to.match(/p2o\.Conv\.0 .* \d+\.\d\/\d+\.\d\n/);
    const without = cli('stats', model, '--no-quant');
    expect(without.stdout).to.not.contain('INT8 dB');
    expect(without.stdout).to.contain('no SQNR computed (--no-quant)');
    const both = cli('stats', model, '--quant', '--no-quant');
    expect(both.status).to.equal(2);
    expect(both.stderr).to.contain('--quant and --no-quant contradict each other');
  });
});
