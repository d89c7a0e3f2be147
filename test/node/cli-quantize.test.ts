// Node-only: `weightlens quantize` as a user runs it: flags or a plan file, the written QDQ model re-opens
// with its weights dequantized, the summary and --json say what was done, bad plans and flags are USAGE
// errors naming the problem, and a plan that quantizes nothing writes nothing.
import { after, before, describe, it } from 'node:test';
import { expect } from 'chai';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import pkg from 'onnx-proto';
import { externalMlp } from '../fixtures/external-mlp.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openModelFile } from '../../src/node/open-file.js';
import type { QuantizeReport } from '../../src/pipeline/quantize-model.js';
import type { VerifyReport } from '../../src/node/verify-quantized.js';
import { realModel } from '../support/node-paths.js';
import { cli } from '../support/cli.js';

const { onnx } = pkg;

const DET = realModel('ch_PP-OCRv4_det_infer.onnx'); // opset 11
const CLS = realModel('ch_ppocr_mobile_v2.0_cls_infer.onnx'); // opset 9: raised for DequantizeLinear
const REC = realModel('ch_PP-OCRv4_rec_infer.onnx');

describe('weightlens quantize', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'weightlens-cli-quantize-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a QDQ model whose weights re-open as dequantized, with a per-layer summary', async () => {
    const out = join(dir, 'det.q.onnx');
    const r = cli('quantize', DET, '-o', out, '--granularity', 'tensor');
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/quantized 64 layers: weights 4\.\d MB -> 1\.\d MB/);
    expect(r.stdout).to.contain('int8 symmetric per-tensor');
    const model = await openModelFile(out);
    const dequantized = model.main.nodes.filter((n) => n.opType === 'DequantizeLinear').map((n) => n.outputs[0]);
    expect(dequantized).to.have.length(64);
    const constants = new Set(model.main.nodes.filter((n) => n.opType === 'Constant').map((n) => n.outputs[0]));
    expect(dequantized.filter((w) => constants.has(w))).to.deep.equal([]); // each float weight's Constant is gone
  });

  it('follows a plan file: a layer kept float, the rest by the default; --json is the report', () => {
    const plan = join(dir, 'plan.json');
    writeFileSync(
      plan,
      JSON.stringify({
        default: { bits: 8, symmetric: false, granularity: 'tensor' },
        layers: { 'p2o.Conv.0': 'float' },
      }),
    );
    const r = cli('quantize', DET, '-o', join(dir, 'det.plan.onnx'), '--plan', plan, '--json');
    expect(r.status, r.stderr).to.equal(0);
    const report = JSON.parse(r.stdout) as QuantizeReport;
    expect(report.layers).to.have.length(63);
    expect(report.layers.map((l) => l.name)).to.not.include('p2o.Conv.0');
    expect(report.layers.every((l) => l.schemeName === 'int8 asymmetric per-tensor' && l.sqnr! > 10)).to.equal(true);
  });

  it('raises an opset-9 model as far as the scheme needs, and says so', () => {
    const r = cli('quantize', CLS, '-o', join(dir, 'cls.q4.onnx'), '--bits', '4', '--block', '32', '--json');
    expect(r.status, r.stderr).to.equal(0);
    const report = JSON.parse(r.stdout) as QuantizeReport;
    expect(report.opset).to.deep.equal({ before: 9, after: 21 });
    expect(report.layers.every((l) => l.schemeName === 'int4 symmetric per-group 32')).to.equal(true);
    expect(cli('quantize', CLS, '-o', join(dir, 'cls.q8.onnx')).stdout).to.contain('(opset 9 -> 13)');
  });

  it('--budget: the planner fits it, beats every single scheme no larger, and its saved plan replays', () => {
    const saved = join(dir, 'planned.json');
    const r = cli('quantize', REC, '-o', join(dir, 'rec.b.onnx'), '--budget', '4.5', '--save-plan', saved, '--json');
    expect(r.status, r.stderr).to.equal(0);
    const report = JSON.parse(r.stdout) as QuantizeReport;
    const planner = report.planner!;
    const weights = planner.floatBytes / 4; // float32 weights
    expect(planner.chosen.bytes).to.be.at.most((4.5 * weights) / 8);
    for (const u of planner.uniform.filter((x) => x.bytes <= planner.chosen.bytes))
      expect(planner.chosen.worstSqnr, u.scheme).to.be.at.least(u.worstSqnr);
    expect(Math.min(...report.layers.map((l) => l.sqnr ?? Infinity))).to.be.closeTo(planner.chosen.worstSqnr, 0.01);
    const replay = cli('quantize', REC, '-o', join(dir, 'rec.p.onnx'), '--plan', saved, '--json');
    expect(replay.status, replay.stderr).to.equal(0);
    expect((JSON.parse(replay.stdout) as QuantizeReport).layers).to.deep.equal(report.layers);
    const floor = JSON.parse(
      cli('quantize', REC, '-o', join(dir, 'rec.f.onnx'), '--sqnr-floor', '25', '--json').stdout,
    );
    expect((floor as QuantizeReport).layers.every((l) => (l.sqnr ?? Infinity) >= 25 - 0.01)).to.equal(true);
  });

  it('an external-data model: codes and scales go to the new data file (large codes through the spill), --verify runs both', () => {
    const mlp = externalMlp(1 << 17); // fc1 and fc2: 2 MB of float32 each, 512 KB of int8 codes... and more
    mkdirSync(join(dir, 'in'), { recursive: true });
    // Typed input and output, as onnxruntime needs them to run it (--verify).
    const typed = onnx.ModelProto.decode(mlp.model);
    typed.graph!.input = [
      { name: 'x', type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 2 }, { dimValue: 4 }] } } } },
    ];
    for (const o of typed.graph!.output!) o.type = { tensorType: { elemType: 1 } };
    writeFileSync(join(dir, 'in', 'mlp.onnx'), onnx.ModelProto.encode(typed).finish());
    writeFileSync(join(dir, 'in', 'mlp.data'), mlp.data);
    const outDir = join(dir, 'out');
    const r = cli(
      'quantize',
      join(dir, 'in', 'mlp.onnx'),
      '-o',
      join(outDir, 'mlp.q.onnx'),
      '--bits',
      '8',
      '--json',
      '--verify',
      '--verify-runs',
      '3',
      '--verify-size',
      '5',
    );
    expect(r.status, r.stderr).to.equal(0);
    const report = JSON.parse(r.stdout) as QuantizeReport & { verify: VerifyReport };
    expect(report.layers.map((l) => l.weight)).to.deep.equal(['fc1.weight', 'fc2.weight', 'fc3.weight']);
    expect(report.verify.runs).to.equal(3);
    expect(report.verify.inputs).to.deep.equal({ x: [2, 4] }); // no open dimension to size
    expect(report.verify.outputs).to.deep.equal({ y: 'values' });
    expect(report.verify.outputSqnr).to.be.above(20);
    expect(readdirSync(outDir).sort()).to.deep.equal(['mlp.q.data', 'mlp.q.onnx']); // no spill folder left behind
    const bytes = report.layers.reduce((n, l) => n + l.bytes.after, 0);
    expect(statSync(join(outDir, 'mlp.q.data')).size)
      .to.be.at.least(bytes - 1024)
      .and.below(bytes + 64 * 1024);
    expect(statSync(join(outDir, 'mlp.q.onnx')).size).to.be.below(4096); // only the graph
  });

  it('refuses bad plans and flags, naming the problem, and writes nothing', () => {
    const plan = join(dir, 'bad.json');
    writeFileSync(plan, JSON.stringify({ default: { bits: 3, symmetric: true, granularity: 'tensor' } }));
    const cases: [string[], string][] = [
      [['--plan', plan], 'bits must be 8 or 4, not 3'],
      [['--bits', '4', '--plan', plan], '--plan and --bits contradict each other'],
      [['--granularity', 'row'], 'granularity must be one of tensor, channel, group, not "row"'],
      [['--granularity', 'group'], 'per-group quantization needs a block size'],
      [['--budget', '4', '--bits', '8'], '--budget and --bits contradict each other'],
      [['--budget', 'lots'], '--budget takes bits per weight (e.g. 4.5) or a size (e.g. 12MB), not "lots"'],
      [['--budget', '4', '--sqnr-floor', '30'], '--budget and --sqnr-floor contradict each other'],
      [['--save-plan', join(dir, 'never.onnx')], 'is the output model itself'],
      [['--method', 'hqq'], 'the HQQ method refines the zero points of asymmetric per-group quantization only'],
      [['--verify-runs', '8'], '--verify-runs needs --verify'],
      [['--verify', '--verify-size', '0'], '--verify-size takes an integer from 1 to 4096, not "0"'],
      [['--verify', '--verify-runs', 'many'], '--verify-runs takes an integer from 1 to 1000, not "many"'],
    ];
    for (const [flags, message] of cases) {
      const out = join(dir, 'never.onnx');
      const r = cli('quantize', DET, '-o', out, ...flags);
      expect(r.status, flags.join(' ')).to.equal(2);
      expect(r.stderr).to.contain(message).and.contain('[USAGE]');
      expect(existsSync(out)).to.equal(false);
    }
    expect(cli('stats', DET, '--bits', '4').stderr).to.contain('--bits is an option of "quantize"');
  });
});
