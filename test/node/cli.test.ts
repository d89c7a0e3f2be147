// Node-only: the real `weightlens` command (bin/weightlens.js over dist/, built by `npm run build`) run as a
// child process on models written to a temp folder and on a real trained model.
import { after, before, describe, it } from 'node:test';
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openModelFile } from '../../src/node/open-file.js';
import { computeStats } from '../../src/pipeline/compute-stats.js';
import { type StatsReport } from '../../src/report/stats-report.js';
import { groupSqnr } from '../../src/report/quant-error.js';
import {
  DataType,
  PNG_HEADER,
  chainModel,
  externalTensor,
  f32Bytes,
  f32Tensor,
  rawTensor,
} from '../fixtures/onnx-bytes.js';
import { ROOT, realModel } from '../support/node-paths.js';

const BIN = join(ROOT, 'bin', 'weightlens.js');
const CLS_MODEL = realModel('ch_ppocr_mobile_v2.0_cls_infer.onnx');

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node bin/weightlens.js …` with pipes (so stderr is not a TTY). */
function cli(...args: string[]): Run {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Exit 2 and exactly one line on stderr: `weightlens: … [CODE]`, with no stack frames. */
function expectOneLineError(r: Run, code: string, ...mentions: string[]): string {
  expect(r.status, r.stderr).to.equal(2);
  expect(r.stdout).to.equal('');
  expect(r.stderr.endsWith('\n'), JSON.stringify(r.stderr)).to.equal(true);
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines, r.stderr).to.have.length(1);
  const line = lines[0]!;
  expect(line.startsWith('weightlens: '), line).to.equal(true);
  expect(line.endsWith(`[${code}]`), line).to.equal(true);
  expect(r.stderr).to.not.contain('    at ');
  for (const m of mentions) expect(line, `mentions ${m}`).to.contain(m);
  return line;
}

/** The table's rows as cells: the lines after the header up to the first empty one, split on runs of 2+ spaces. */
function tableRows(stdout: string): { header: string[]; rows: string[][] } {
  const lines = stdout.trimEnd().split('\n');
  const at = lines.findIndex((l) => /^layer\s{2,}op\s{2,}/.test(l));
  expect(at, stdout).to.be.greaterThan(-1);
  const end = lines.indexOf('', at);
  const split = (l: string) => l.trim().split(/\s{2,}/);
  return { header: split(lines[at]!), rows: lines.slice(at + 1, end < 0 ? undefined : end).map(split) };
}

describe('weightlens stats (CLI)', () => {
  let root = '';
  const path = (...parts: string[]) => join(root, ...parts);
  const weightValues = [0.5, -1, 2, -4, 8, 0.25, -0.125, 1]; // conv.w [2,1,1,4]

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'weightlens-cli-'));
    mkdirSync(path('ext'));
    mkdirSync(path('moved'));
    mkdirSync(path('sub'));
    const write = (name: string, bytes: Uint8Array) => writeFileSync(path(name), bytes);
    write(
      'two.onnx',
      chainModel([
        { op: 'Conv', weight: f32Tensor('conv.w', [2, 1, 1, 4], weightValues), name: 'conv' },
        { op: 'Gemm', weight: f32Tensor('fc.w', [3, 2], [1, -2, 3, 4, -5, 6]), attributes: [], name: 'fc' },
      ]),
    );
    write(
      'nan.onnx',
      chainModel([
        {
          op: 'Conv',
          weight: f32Tensor('nan.w', [2, 1, 1, 3], [1, NaN, Infinity, -Infinity, 2, NaN]),
          name: 'nanconv',
        },
      ]),
    );
    // external data: 8 bytes of padding, then conv.w
    const external = chainModel([
      { op: 'Conv', weight: externalTensor('conv.w', [2, 1, 1, 4], 'weights.bin', 8, 32), name: 'conv' },
    ]);
    const bin = new Uint8Array(40);
    bin.set(f32Bytes(weightValues), 8);
    writeFileSync(path('ext', 'model.onnx'), external);
    writeFileSync(path('ext', 'weights.bin'), bin);
    writeFileSync(path('moved', 'model.onnx'), external);
    writeFileSync(path('moved', 'weights.bin'), bin);
    renameSync(path('moved', 'weights.bin'), path('weights-elsewhere.bin')); // nothing beside the model now
    mkdirSync(path('datadir'));
    writeFileSync(path('datadir', 'weights.bin'), bin);
    writeFileSync(path('secret.bin'), bin);
    writeFileSync(
      path('sub', 'escape.onnx'),
      chainModel([
        { op: 'Conv', weight: externalTensor('conv.w', [2, 1, 1, 4], '../secret.bin', 8, 32), name: 'conv' },
      ]),
    );
    // bad input
    write('cat.png', PNG_HEADER);
    write('notes.txt', new TextEncoder().encode('these are my notes, not a model\n'));
    const real = readFileSync(CLS_MODEL);
    write('half.onnx', real.subarray(0, Math.floor(real.length / 2)));
    write(
      'badsize.onnx',
      chainModel([
        {
          op: 'Conv',
          weight: rawTensor('conv1.weight', [16, 3, 3, 3], DataType.FLOAT, new Uint8Array(100)),
          name: 'conv1',
        },
      ]),
    );
    write(
      'dtype99.onnx',
      chainModel([{ op: 'Conv', weight: rawTensor('odd.w', [2, 1, 1, 1], 99, new Uint8Array(8)), name: 'oddconv' }]),
    );
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('prints a table: one row per layer, the documented columns, nothing on stderr', () => {
    const r = cli('stats', CLS_MODEL);
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stderr).to.equal('');
    const { header, rows } = tableRows(r.stdout);
    expect(header).to.deep.equal([
      'layer',
      'op',
      'shape',
      'ch',
      'dead',
      'min',
      'max',
      'max rel',
      'outliers',
      'INT8 dB t/ch',
      'INT4 g32',
    ]);
    const json = JSON.parse(cli('stats', CLS_MODEL, '--json').stdout) as StatsReport;
    expect(json.layers.length).to.be.at.least(50);
    expect(rows).to.have.length(json.layers.length);
    rows.forEach((row, i) => {
      const layer = json.layers[i]!;
      expect(row[0], `row ${i}`).to.equal(layer.name);
      expect(row[2], `row ${i}`).to.equal(`[${layer.shape.join(',')}]`);
      expect(row[3], `row ${i}`).to.equal(String(layer.channels.min.length));
      expect(row[4], `row ${i}`).to.equal(String(layer.deadChannels.length));
      expect(row.at(-2), `row ${i}`).to.match(/^\d+\.\d\/\d+\.\d$/);
      expect(row.at(-1), `row ${i}`).to.equal(groupSqnr(layer.quant!.int4.symmetric, 32)!.toFixed(1));
    });
  });

  it('table figures on a small model: min, max and max relative range', () => {
    const r = cli('stats', path('two.onnx'));
    expect(r.status, r.stderr).to.equal(0);
    const { rows } = tableRows(r.stdout);
    // conv: channel 0 = 0.5, -1, 2, -4 (range 6), channel 1 = 8, 0.25, -0.125, 1 (range 8.125) -> 1.354…
    expect(rows[0]!.slice(0, 8)).to.deep.equal(['conv', 'Conv', '[2,1,1,4]', '2', '0', '-4', '8', '1.354']);
    // fc: Gemm transB=0 on [3,2]: columns 1, 3, -5 and -2, 4, 6
    expect(rows[1]!.slice(0, 7)).to.deep.equal(['fc', 'Gemm', '[3,2]', '2', '0', '-5', '6']);
  });

  it('--json is the library result for the same file', async () => {
    for (const file of [CLS_MODEL, path('two.onnx'), path('nan.onnx')]) {
      const r = cli('stats', file, '--json');
      expect(r.status, r.stderr).to.equal(0);
      expect(r.stderr).to.equal('');
      const expected = await computeStats(await openModelFile(file), { quant: true });
      expect(JSON.parse(r.stdout), file).to.deep.equal(expected);
    }
  });

  it('--layer narrows to one layer; an unknown layer is one line and exit 2', () => {
    const r = cli('stats', path('two.onnx'), '--json', '--layer', 'fc');
    expect(r.status, r.stderr).to.equal(0);
    const report = JSON.parse(r.stdout) as StatsReport;
    expect(report.layers.map((l) => l.name)).to.deep.equal(['fc']);
    const table = tableRows(cli('stats', path('two.onnx'), '--layer', 'conv.w').stdout);
    expect(table.rows.map((row) => row[0])).to.deep.equal(['conv']);
    expectOneLineError(cli('stats', path('two.onnx'), '--layer', 'nope'), 'LAYER_NOT_FOUND', 'two.onnx', '"nope"');
  });

  it('external data beside the model, missing, from --data, and escaping the folder', () => {
    const beside = cli('stats', path('ext', 'model.onnx'), '--json');
    expect(beside.status, beside.stderr).to.equal(0);
    expect((JSON.parse(beside.stdout) as StatsReport).layers[0]!.channels.max).to.deep.equal([2, 8]);

    expectOneLineError(
      cli('stats', path('moved', 'model.onnx')),
      'EXTERNAL_DATA',
      'weights.bin',
      '"conv.w"',
      'model.onnx',
    );

    const withData = cli('stats', path('moved', 'model.onnx'), '--data', path('datadir'), '--json');
    expect(withData.status, withData.stderr).to.equal(0);
    expect((JSON.parse(withData.stdout) as StatsReport).layers[0]!.channels.min).to.deep.equal([-4, -0.125]);

    expectOneLineError(cli('stats', path('sub', 'escape.onnx')), 'UNSAFE_PATH', '../secret.bin', 'escape.onnx');
  });

  it('bad input: one line on stderr naming the file and the code, exit 2, no stack', () => {
    expectOneLineError(cli('stats', path('cat.png')), 'NOT_ONNX', 'cat.png');
    expectOneLineError(cli('stats', path('notes.txt')), 'NOT_ONNX', 'notes.txt');
    expectOneLineError(cli('stats', path('half.onnx')), 'TRUNCATED', 'half.onnx');
    expectOneLineError(
      cli('stats', path('badsize.onnx')),
      'BAD_TENSOR',
      'badsize.onnx',
      '"conv1.weight"',
      '100 bytes',
      '1728',
    );
    expectOneLineError(cli('stats', path('dtype99.onnx')), 'UNSUPPORTED_DTYPE', 'dtype99.onnx', '"odd.w"', '99');
    expectOneLineError(cli('stats', path('missing.onnx')), 'IO', 'missing.onnx');
    expectOneLineError(cli('stats', path('two.onnx'), '--frobnicate'), 'USAGE', '--frobnicate');
    expectOneLineError(cli(), 'USAGE');
    expectOneLineError(cli('stats'), 'USAGE');
  });

  it('--debug adds the stack trace', () => {
    const r = cli('stats', path('half.onnx'), '--debug');
    expect(r.status).to.equal(2);
    expect(r.stderr.split('\n')[0]).to.match(/^weightlens: .*half\.onnx.*\[TRUNCATED\]$/);
    expect(r.stderr).to.contain('    at ');
  });

  it('NaN weights: exit 0, the non-finite column counts them', () => {
    const r = cli('stats', path('nan.onnx'));
    expect(r.status, r.stderr).to.equal(0);
    const { header, rows } = tableRows(r.stdout);
    expect(rows).to.have.length(1);
    expect(rows[0]![0]).to.equal('nanconv');
    expect(rows[0]![header.indexOf('non-finite')]).to.equal('4');
    expect(rows[0]![header.indexOf('INT8 dB t/ch')], 'no SQNR for NaN weights').to.equal('n/a');
  });

  it('--progress writes progress lines to stderr, ending with every layer done', () => {
    const r = cli('stats', CLS_MODEL, '--progress');
    expect(r.status, r.stderr).to.equal(0);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines.length).to.be.at.least(2);
    expect(
      lines.every((l) => l.includes('ch_ppocr_mobile_v2.0_cls_infer.onnx')),
      r.stderr,
    ).to.equal(true);
    const total = (JSON.parse(cli('stats', CLS_MODEL, '--json').stdout) as StatsReport).layers.length;
    expect(lines.at(-1)).to.contain(`${total} / ${total} layers`);
    expect(tableRows(r.stdout).rows).to.have.length(total);
  });

  it('--help and --version', () => {
    const help = cli('--help');
    expect(help.status).to.equal(0);
    expect(help.stdout).to.match(/^Usage: weightlens/);
    expect(help.stdout)
      .to.contain('stats MODEL.onnx')
      .and.contain('--json')
      .and.contain('--layer')
      .and.contain('--data');
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-v']) {
      const v = cli(flag);
      expect(v.status).to.equal(0);
      expect(v.stdout).to.equal(`${pkg.version}\n`);
    }
  });
});
