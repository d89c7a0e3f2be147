// `weightlens audit` against numpy (test/reference/audit_model.py): saturation, grid levels, bad scales, int32
// bias headroom and the float-model comparison on QDQ per-tensor and per-channel Conv, QLinearConv with int32
// biases at int32's ends, and MatMulNBits; the CLI's table, JSON and errors; and a model quantized by the kit
// itself, whose audit against its float model gives the quantize report's SQNR.
import { after, before, describe, it } from 'node:test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { openModelFile } from '../../src/node/open-file.js';
import { writeModel } from '../../src/node/write-model.js';
import { auditModel } from '../../src/pipeline/audit-model.js';
import { quantizeModel } from '../../src/pipeline/quantize-model.js';
import type { AuditReport, LayerAudit } from '../../src/report/audit-report.js';
import { PYTHON, realModel } from '../support/node-paths.js';
import { cli } from '../support/cli.js';

interface Counts {
  atMin: number[];
  atMax: number[];
  elements: number[];
  levels: number[];
}
interface Reference {
  qmin: number;
  qmax: number;
  restricted: boolean;
  levels: number;
  channels: Counts;
  blocks: Counts | null;
  scales: LayerAudit['scales'];
  bias: { headroomBits: (number | null)[]; overflow: number } | null;
  float: {
    sqnr: number | null;
    outside: number;
    clipped: number;
    channels: { sqnr: (number | null)[]; outside: number[]; clipped: number[] };
  };
}

const close = (actual: number | null, expected: number | null, where: string, tol = 1e-9) => {
  if (expected === null) expect(actual, where).to.equal(null);
  else
    expect(actual, where)
      .to.be.a('number')
      .and.closeTo(expected, tol * Math.max(1, Math.abs(expected)));
};

describe('weightlens audit against numpy', () => {
  let dir: string;
  let qPath: string;
  let fPath: string;
  let reference: Record<string, Reference>;
  let report: AuditReport;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'weightlens-audit-'));
    qPath = join(dir, 'audit.q.onnx');
    fPath = join(dir, 'audit.onnx');
    const stdout = execFileSync(PYTHON, ['test/reference/audit_model.py', qPath, fPath], { encoding: 'utf8' });
    reference = (JSON.parse(stdout) as { layers: Record<string, Reference> }).layers;
    report = await auditModel(await openModelFile(qPath), { float: await openModelFile(fPath) });
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('finds every quantized layer, in its format', () => {
    expect(report.layers.map((l) => [l.name, l.format])).to.deep.equal([
      ['conv_t', 'QDQ'],
      ['conv_c', 'QDQ'],
      ['qconv_quant', 'QOperator'],
      ['mm_Q4', 'MatMulNBits'],
    ]);
  });

  it('saturation, grid levels and scale counts per channel and per block agree with numpy', () => {
    for (const layer of report.layers) {
      const ref = reference[layer.name]!;
      const where = layer.name;
      expect(layer.range, where).to.deep.equal({ qmin: ref.qmin, qmax: ref.qmax, restricted: ref.restricted });
      expect(layer.levels.used, where).to.equal(ref.levels);
      expect(layer.channels, where).to.deep.equal(ref.channels);
      expect(layer.blocks?.detail ?? null, where).to.deep.equal(ref.blocks);
      expect(layer.scales, where).to.deep.equal(ref.scales);
      const sum = (a: number[]) => a.reduce((x, y) => x + y, 0);
      expect(layer.saturation.atMin, where).to.equal(sum(ref.channels.atMin));
      expect(layer.saturation.atMax, where).to.equal(sum(ref.channels.atMax));
    }
    // The per-channel uint8 layer holds one zero, one subnormal and one negative scale.
    expect(report.layers[1]!.scales).to.include({ zero: 1, denormal: 1, negative: 1, nonFinite: 0 });
  });

  it('int32 bias headroom: float bias through the input scale, int32 codes through DequantizeLinear and QLinearConv', () => {
    for (const layer of report.layers) {
      const ref = reference[layer.name]!;
      if (!ref.bias) {
        // MatMulNBits has no bias here
        expect(layer.bias, layer.name).to.equal(null);
        continue;
      }
      expect(layer.bias!.status, layer.name).to.equal('known');
      expect(layer.bias!.overflow, layer.name).to.equal(ref.bias.overflow);
      ref.bias.headroomBits.forEach((h, c) => close(layer.bias!.headroomBits![c]!, h, `${layer.name} channel ${c}`));
    }
    const [convT, convC, qconv] = report.layers;
    expect(convT!.bias).to.include({ stored: 'float', xScale: Math.fround(0.02) });
    expect(convT!.bias!.minHeadroomBits).to.be.lessThan(0);
    expect(convC!.bias).to.include({ stored: 'int32', name: 'b_c_quantized' });
    expect(qconv!.bias).to.include({ stored: 'int32', name: 'b_q_quantized', xScale: Math.fround(0.05) });
  });

  it('the float model: paired by weight name and node name; SQNR, outside and clipped shares agree with numpy', () => {
    expect(report.layers.map((l) => [l.float!.layer, l.float!.matchedBy])).to.deep.equal([
      ['conv_t', 'weight name'],
      ['conv_c', 'weight name'],
      ['qconv', 'weight name'],
      ['mm', 'node name'],
    ]);
    for (const layer of report.layers) {
      const ref = reference[layer.name]!.float;
      const where = layer.name;
      close(layer.float!.sqnr, ref.sqnr, where);
      expect(layer.float!.outside, where).to.equal(ref.outside);
      expect(layer.float!.clipped, where).to.equal(ref.clipped);
      expect(layer.float!.channels.outside, where).to.deep.equal(ref.channels.outside);
      expect(layer.float!.channels.clipped, where).to.deep.equal(ref.channels.clipped);
      ref.channels.sqnr.forEach((s, c) => close(layer.float!.channels.sqnr[c]!, s, `${where} channel ${c}`));
    }
  });

  it('the CLI: a table worst first, the same report as JSON', () => {
    const table = cli('audit', qPath, '--float', fPath, '--wide');
    expect(table.status, table.stderr).to.equal(0);
    const lines = table.stdout.split('\n');
    const rows = lines
      .filter((l) => /^ {2}(conv_t|conv_c|qconv_quant|mm_Q4) /.test(l))
      .map((l) => l.trim().split(/\s+/)[0]);
    // bias headroom first (conv_t overflows: −0.58 bits; qconv and conv_c sit at int32's end), then saturation
    expect(rows[0]).to.equal('conv_t');
    expect(rows).to.have.members(['conv_t', 'conv_c', 'qconv_quant', 'mm_Q4']);
    expect(table.stdout).to.contain('1 zero, 1 denormal, 1 negative').and.contain('SQNR dB');
    const json = cli('audit', qPath, '--float', fPath, '--json');
    expect(json.status, json.stderr).to.equal(0);
    expect(JSON.parse(json.stdout)).to.deep.equal(JSON.parse(JSON.stringify(report)));
  });

  it('CLI errors: a missing --float file, a float model whose layers do not match', () => {
    const missing = cli('audit', qPath, '--float', join(dir, 'nope.onnx'));
    expect(missing.status).to.equal(2);
    expect(missing.stderr)
      .to.match(/--float: .*nope\.onnx: cannot read the model/)
      .and.contain('[IO]');
    // The quantized model's own layers are not float: the float model "audit.q.onnx" has none to pair.
    const other = cli('audit', qPath, '--float', realModel('ch_ppocr_mobile_v2.0_cls_infer.onnx'));
    expect(other.status).to.equal(2);
    expect(other.stderr).to.contain('ch_ppocr_mobile_v2.0_cls_infer.onnx: the float model has no layer for');
    expect(other.stderr).to.contain('[USAGE]');
    const float = cli('audit', fPath);
    expect(float.status).to.equal(0);
    expect(float.stdout).to.contain('0 quantized layers').and.contain('nothing to audit');
    const misplaced = cli('stats', qPath, '--float', fPath);
    expect(misplaced.status).to.equal(2);
    expect(misplaced.stderr).to.contain('--float is an option of "audit"');
  });
});

describe('auditing a model quantized by weightlens itself', () => {
  it('PP-OCRv4 det, int8 per tensor: the audit against the float model gives the quantize report SQNR', async () => {
    const path = realModel('ch_PP-OCRv4_det_infer.onnx');
    const float = await openModelFile(path);
    const outcome = await quantizeModel(float, {
      plan: { default: { bits: 8, symmetric: true, granularity: 'tensor' } },
    });
    const dir = mkdtempSync(join(tmpdir(), 'weightlens-audit-det-'));
    try {
      const out = join(dir, 'det.q.onnx');
      await writeModel(out, outcome, { input: path, model: float });
      const t0 = performance.now();
      const audit = await auditModel(await openModelFile(out), { float });
      const seconds = (performance.now() - t0) / 1000;
      const quantized = new Map(outcome.report.layers.map((l) => [l.name, l]));
      expect(audit.layers.length).to.equal(quantized.size);
      for (const layer of audit.layers) {
        const expected = quantized.get(layer.name)!;
        expect(layer.float!.matchedBy, layer.name).to.equal('weight name');
        expect(layer.format).to.equal('QDQ');
        expect(layer.range).to.deep.equal({ qmin: -127, qmax: 127, restricted: true });
        // The quantize kernel squares errors in float32 (summing in float64), the audit in float64.
        expect(layer.float!.sqnr, layer.name).to.be.closeTo(expected.sqnr!, 1e-6);
        // min-max scales never clip beyond rounding
        expect(layer.float!.clipped, layer.name).to.equal(0);
        expect(layer.saturation.atMin + layer.saturation.atMax, layer.name).to.be.greaterThan(0);
      }
      const elements = audit.layers.reduce((n, l) => n + l.elements, 0);
      console.log(`audited ${audit.layers.length} layers, ${elements} codes with --float in ${seconds.toFixed(2)} s`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
