// Node-only: `weightlens cle` as a user runs it: the written model re-opens, the summary says what was
// done, the input is never overwritten, --relu6-to-relu warns, --json is the report.
import { after, before, describe, it } from 'node:test';
import { expect } from 'chai';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openModelFile } from '../../src/node/open-file.js';
import type { CleReport } from '../../src/report/cle-report.js';
import { mobilenetV2Bytes } from '../fixtures/mobilenetv2.js';
import { realModel } from '../support/node-paths.js';
import { cli } from '../support/cli.js';

describe('weightlens cle', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'weightlens-cli-cle-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes an equalized model that re-opens, and says what it folded, equalized and skipped', async () => {
    const input = join(dir, 'cls.onnx');
    copyFileSync(realModel('ch_ppocr_mobile_v2.0_cls_infer.onnx'), input);
    const before = readFileSync(input);
    const r = cli('cle', input, '-o', join(dir, 'cls.cle.onnx'));
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.contain('folded 35 BatchNormalizations');
    expect(r.stdout).to.match(/equalized \d+ pairs and \d+ Conv→DW→Conv triplets/);
    expect(r.stdout).to.contain('HardSigmoid between p2o.Conv.4 and p2o.Conv.5 is not scale-equivariant');
    expect(r.stdout).to.contain('largest relative range and INT8 per-tensor SQNR (dB) per layer, before -> after');
    const model = await openModelFile(join(dir, 'cls.cle.onnx'));
    expect(model.main.nodes.filter((n) => n.opType === 'BatchNormalization')).to.have.length(0);
    expect(readFileSync(input).equals(before), 'the input is untouched').to.equal(true);
  });

  it('refuses to write over its input (exit 2, one line)', () => {
    const input = join(dir, 'self.onnx');
    copyFileSync(realModel('ch_ppocr_mobile_v2.0_cls_infer.onnx'), input);
    const r = cli('cle', input, '-o', input);
    expect(r.status).to.equal(2);
    expect(r.stderr.trim().split('\n')).to.have.length(1);
    expect(r.stderr).to.contain('is the input model').and.contain('[USAGE]');
  });

  it('--relu6-to-relu warns that the float model changes, and rewrites the Clips; --json gives the report', () => {
    const input = join(dir, 'mbv2.onnx');
    writeFileSync(input, mobilenetV2Bytes({ width: 0.35, resolution: 64, activation: 'Relu6' }).bytes);
    const plain = JSON.parse(cli('cle', input, '-o', join(dir, 'plain.onnx'), '--json').stdout) as CleReport;
    expect(plain.relu6Rewritten).to.deep.equal([]);
    expect(plain.skipped.some((s) => s.reason.includes('Relu6 (Clip 0..6)'))).to.equal(true);
    const r = cli('cle', input, '-o', join(dir, 'relu.onnx'), '--relu6-to-relu', '--json', '--no-bias-absorption');
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stderr).to.contain('does NOT compute the same function');
    const report = JSON.parse(r.stdout) as CleReport;
    expect(report.relu6Rewritten.length).to.be.greaterThan(0);
    expect(report.options).to.deep.equal({ biasAbsorption: false, relu6ToRelu: true });
    expect(report.sets.length).to.be.greaterThan(plain.sets.length);
    expect(existsSync(join(dir, 'relu.onnx'))).to.equal(true);
  });
});
