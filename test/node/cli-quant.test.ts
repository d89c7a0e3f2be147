// `weightlens stats --quant`: the SQNR figures in the JSON form (the shape) and a table column.
import { describe, it } from 'node:test';
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { StatsReport } from '../../src/report/stats-report.js';
import { ROOT, realModel } from '../support/node-paths.js';

const cli = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'bin/weightlens.js'), ...args], { cwd: ROOT, encoding: 'utf8', maxBuffer: 256 << 20 });

describe('weightlens stats --quant', () => {
  const model = realModel('ch_ppocr_mobile_v2.0_cls_infer.onnx');

  it('adds layers[].quant = { int8|int4: { symmetric|asymmetric: { perTensor, perChannel } } } in dB', () => {
    const r = cli('stats', model, '--json', '--quant');
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
    expect(JSON.parse(cli('stats', model, '--json').stdout).layers[0].quant).to.equal(undefined);
  });

  it('shows INT8 symmetric per-tensor / per-channel in the table', () => {
    const r = cli('stats', model, '--quant', '--layer', 'p2o.Conv.0');
    expect(r.stdout).to.contain('INT8 SQNR dB tensor/channel');
    expect(r.stdout).to.match(/p2o\.Conv\.0 .* \d+\.\d \/ \d+\.\d\n/);
  });
});
