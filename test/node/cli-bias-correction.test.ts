// Node-only: `weightlens quantize --bias-correction` as a user runs it on the MobileNetV2-shaped model: the
// summary lists the corrected layers and where each one's E[x] came from, --json carries the same, the written
// model holds the new biases, and the flag belongs to quantize alone.
import { after, before, describe, it } from 'node:test';
import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openModelFile } from '../../src/node/open-file.js';
import type { QuantizeReport } from '../../src/pipeline/quantize-model.js';
import { mobilenetV2Bytes } from '../fixtures/mobilenetv2.js';
import { cli } from '../support/cli.js';

describe('weightlens quantize --bias-correction', () => {
  let dir: string;
  let model: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'weightlens-cli-bias-'));
    model = join(dir, 'mobilenetv2.onnx');
    writeFileSync(model, mobilenetV2Bytes({ width: 0.25, resolution: 32 }).bytes);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('corrects every layer, says where each E[x] came from, and writes the new biases', async () => {
    const out = join(dir, 'q.onnx');
    const r = cli('quantize', model, '-o', out, '--granularity', 'tensor', '--bias-correction');
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.contain('bias correction: 53 layers corrected');
    const flat = r.stdout.replace(/\s+/g, ' '); // the summary wraps long lines
    expect(flat).to.match(
      /conv_3: ‖Δb‖ [\d.e-]+ \(new bias\), mean output shift [\d.e-]+ -> [\d.e-]+ \(E\[x\] from BatchNormalization "batchnormalization_\d+", Clip\(0, 6\)\)/,
    );
    expect(flat).to.match(
      /conv_0: [^\n]*? \(E\[x\] propagated over 0 nodes from the model input \(fitted to BatchNormalization "batchnormalization_1"\)\)/,
    );
    expect(r.stdout).not.to.contain('not corrected');
    const written = await openModelFile(out);
    const conv3 = written.main.nodes.find((n) => n.name === 'conv_3')!;
    expect(conv3.inputs[2]).to.equal('conv_3.bias_corrected');
    expect(written.main.constants.get('conv_3.bias_corrected')!.shape).to.have.length(1);
  });

  it('--json carries the same report', () => {
    const r = cli(
      'quantize',
      model,
      '-o',
      join(dir, 'q2.onnx'),
      '--granularity',
      'tensor',
      '--bias-correction',
      '--json',
    );
    expect(r.status, r.stderr).to.equal(0);
    const report = JSON.parse(r.stdout) as QuantizeReport;
    expect(report.biasCorrection!.layers).to.have.length(53);
    expect(report.biasCorrection!.layers.filter((l) => l.expectedInput.kind === 'batchnorm')).to.have.length(40);
    expect(report.biasCorrection!.skipped).to.have.length(0);
    const plain = JSON.parse(
      cli('quantize', model, '-o', join(dir, 'q3.onnx'), '--granularity', 'tensor', '--json').stdout,
    ) as QuantizeReport;
    expect(plain.biasCorrection).to.equal(undefined);
  });

  it('is an option of quantize only', () => {
    const r = cli('stats', model, '--bias-correction');
    expect(r.status).to.equal(2);
    expect(r.stderr).to.contain('--bias-correction is an option of "quantize", not of "stats"');
  });
});
