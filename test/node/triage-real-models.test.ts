// The kit's verdicts on real trained models: PP-OCRv4 det's near-dead channel must not make a healthy
// layer look like the worst one, "worst first" follows INT8 per-tensor SQNR in the CLI and the report, and
// the CLI's text stays readable (lines of at most 120 characters, numbers of at most 4 significant digits).
import { describe, it, before, after } from 'node:test';
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StatsReport } from '../../src/report/stats-report.js';
import { LINE_BUDGET } from '../../src/cli/text-layout.js';
import { significantDigits } from '../support/significant-digits.js';
import { ROOT, realModel } from '../support/node-paths.js';

const cli = (...args: string[]) => {
  const r = spawnSync(process.execPath, [join(ROOT, 'bin/weightlens.js'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 256 << 20,
  });
  expect(r.status, r.stderr).to.equal(0);
  return r.stdout;
};

const DET = realModel('ch_PP-OCRv4_det_infer.onnx');
const REAL_MODELS = [
  DET,
  realModel('ch_PP-OCRv4_rec_infer.onnx'),
  realModel('ch_ppocr_mobile_v2.0_cls_infer.onnx'),
  ...['silero_vad_legacy.onnx', 'silero_vad_v5.onnx'].map((f) => join(ROOT, 'node_modules/@ricky0123/vad-web/dist', f)),
];

const lowestSqnr = (report: StatsReport) =>
  report.layers.reduce((a, b) => (b.quant!.int8.symmetric.perTensor! < a.quant!.int8.symmetric.perTensor! ? b : a));

/** Numbers standing alone in CLI text; shapes ([48,192,1,1]) are dimensions, not measurements, and are skipped. */
const numbersIn = (line: string) =>
  line
    .replace(/\[[\d,]*\]/g, ' ')
    .split(/[\s/(),:;]+/)
    .filter((t) => /^-?\d+(\.\d+)?(e[-+]?\d+)?[kMG]?$/.test(t))
    .map((t) => t.replace(/[kMG]$/, ''));

describe('triage on real models', () => {
  let det: StatsReport;
  let dir = '';
  before(() => {
    det = JSON.parse(cli('stats', DET, '--json')) as StatsReport;
    dir = mkdtempSync(join(tmpdir(), 'weightlens-triage-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("PP-OCRv4 det p2o.Conv.22: dead channels counted, a finite and modest live relative range, AIMET's figure beside it", () => {
    const layer = det.layers.find((l) => l.name === 'p2o.Conv.22')!;
    expect(layer.deadChannels.length).to.be.greaterThan(0);
    expect(layer.maxRelativeRange).to.be.a('number').and.lessThan(1e4);
    expect(layer.aimetMaxRelativeRange, 'AIMET divides by the near-dead channel').to.be.greaterThan(1e30);
    // Its INT8 per-tensor SQNR is healthy: nowhere near the worst layer.
    expect(layer.quant!.int8.symmetric.perTensor).to.be.greaterThan(30);
  });

  it('the CLI summary and the report open on the layer with the lowest INT8 per-tensor SQNR', () => {
    const worst = lowestSqnr(det);
    expect(worst.name).to.equal('p2o.Conv.28');
    const table = cli('stats', DET);
    const summary = table.split('\n');
    const at = summary.findIndex((l) => l.startsWith('worst 5 of 64 layers by INT8 symmetric per-tensor SQNR'));
    expect(at, table).to.be.greaterThan(0);
    expect(summary[at + 1]!.trim().split(/\s{2,}/)[0]).to.equal(worst.name);
    const html = join(dir, 'det.html');
    cli('report', DET, '-o', html, '--quiet');
    const opening = /<weight-range-plot id="ranges" layer="([^"]+)"/.exec(readFileSync(html, 'utf8'));
    expect(opening?.[1]).to.equal(worst.name);
  });

  it('--wide prints the full layer names that the default cuts to 120 characters', () => {
    const silero = REAL_MODELS.at(-1)!;
    const names = (JSON.parse(cli('stats', silero, '--json')) as StatsReport).layers.map((l) => `${l.graph}/${l.name}`);
    const longest = names.reduce((a, b) => (b.length > a.length ? b : a));
    expect(cli('stats', silero)).to.not.contain(longest);
    const wide = cli('stats', silero, '--wide');
    expect(wide).to.contain(longest);
    expect(Math.max(...wide.split('\n').map((l) => l.length))).to.be.greaterThan(LINE_BUDGET);
  });

  it('stats and cle print lines of at most 120 characters and numbers of at most 4 significant digits', () => {
    for (const model of REAL_MODELS) {
      const outputs = [cli('stats', model), cli('cle', model, '-o', join(dir, 'out.onnx'))];
      for (const text of outputs) {
        for (const line of text.trimEnd().split('\n')) {
          expect(line.length, `${model}: ${line}`).to.be.at.most(LINE_BUDGET);
          for (const n of numbersIn(line)) expect(significantDigits(n), `${model}: "${n}" in ${line}`).to.be.at.most(4);
        }
      }
    }
  });
});
