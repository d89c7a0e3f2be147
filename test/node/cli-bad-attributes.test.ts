// Node-only: broken attributes and BatchNorms as a user meets them on the command line, and CLE on random
// Conv -> Relu -> Conv chains with extreme magnitudes run by onnxruntime-node: every weight written is
// finite, and the function is kept wherever float32 can represent it.
import { after, before, describe, it } from 'node:test';
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openModelFile } from '../../src/node/open-file.js';
import type { Model } from '../../src/onnx/model.js';
import { decodeModel } from '../../src/onnx/decode.js';
import { equalizeModel } from '../../src/pipeline/equalize-model.js';
import type { CleReport } from '../../src/report/cle-report.js';
import { convPair } from '../fixtures/bad-attributes.js';
import { attr, CleGraph } from '../support/cle-graph.js';
import { ROOT } from '../support/node-paths.js';
import { deviation, outputs } from '../support/onnxruntime.js';
import { seededRandom } from '../support/random.js';

const cli = (...args: string[]) =>
  spawnSync(process.execPath, [join(ROOT, 'bin/weightlens.js'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
  });

/** Every value of every constant in the model that is not finite, as "tensor[index] = value". */
async function nonFiniteValues(model: Model): Promise<string[]> {
  const found: string[] = [];
  for (const graph of model.graphs) {
    for (const t of graph.constants.values()) {
      const values = new Float32Array(t.size);
      await t.readFloat32Into(values);
      values.forEach((v, i) => Number.isFinite(v) || found.push(`${t.name}[${i}] = ${v}`));
    }
  }
  return found;
}

describe('weightlens stats, cle and report on broken attributes', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'weightlens-bad-attributes-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const [group, says] of [
    [0, 'group=0 must be at least 1'],
    [-3, 'group=-3 must be at least 1'],
    [2 ** 31, 'group=2147483648 does not divide the 4 output channels'],
  ] as const) {
    it(`Conv group ${group}: stats, cle and report fail with the same BAD_GRAPH line (exit 2)`, () => {
      const input = join(dir, `group${group}.onnx`);
      writeFileSync(input, convPair({ c1Attributes: [attr.int('group', group)], bn: {} }).bytes());
      for (const args of [
        ['stats', input],
        ['cle', input, '-o', join(dir, 'out.onnx')],
        ['report', input, '-o', join(dir, 'out.html')],
      ]) {
        const r = cli(...args);
        expect(r.status, `${args[0]}: ${r.stderr}`).to.equal(2);
        expect(r.stderr.trim()).to.equal(
          `weightlens: ${input}: Conv "c1" attribute ${says}${group === 2 ** 31 ? ' of weight "w1" [4,4,3,3]' : ''} [BAD_GRAPH]`,
        );
      }
    });
  }

  it('Gemm transB=7: stats fails clearly (BAD_GRAPH)', () => {
    const g = new CleGraph();
    g.node('Gemm', 'g1', ['x', g.tensor('gw1', [4, 3])], [attr.int('transB', 7)]);
    const input = join(dir, 'transB7.onnx');
    writeFileSync(input, g.bytes());
    const r = cli('stats', input);
    expect(r.status).to.equal(2);
    expect(r.stderr).to.contain('Gemm "g1" attribute transB=7 must be 0 or 1 [BAD_GRAPH]');
  });

  it('a BatchNorm with variance 0 and epsilon 0: cle exits 0, leaves it unfolded with the reason, writes only finite weights', async () => {
    const input = join(dir, 'var0.onnx');
    const output = join(dir, 'var0.cle.onnx');
    writeFileSync(input, convPair({ bn: { var: () => 0, epsilon: 0 } }).bytes());
    const r = cli('cle', input, '-o', output, '--json');
    expect(r.status, r.stderr).to.equal(0);
    const report = JSON.parse(r.stdout) as CleReport;
    expect(report.folded).to.deep.equal([]);
    expect(report.skipped[0]).to.deep.equal({
      layers: ['c1', 'bn'],
      reason: 'bn not folded: channel 0 has var + epsilon = 0, so 1/sqrt(var + epsilon) is not finite',
    });
    const written = await openModelFile(output);
    expect(written.main.nodes.map((n) => n.opType)).to.include('BatchNormalization');
    expect(await nonFiniteValues(written)).to.deep.equal([]);
  });

  it('weights near ±3.4e38 that a BatchNorm would scale by 14: cle writes no +Inf, and says why it did not fold', async () => {
    const input = join(dir, 'huge.onnx');
    writeFileSync(input, convPair({ w1: (i) => (i % 2 ? 3e38 : -3e38), bn: { scale: () => 10 } }).bytes());
    const r = cli('cle', input, '-o', join(dir, 'huge.cle.onnx'));
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.contain(
      "bn not folded: channel 0's factor scale/sqrt(var + epsilon) = 14.1 would take its weights",
    );
    expect(await nonFiniteValues(await openModelFile(join(dir, 'huge.cle.onnx')))).to.deep.equal([]);
  });
});

describe('CLE on random Conv -> Relu -> Conv chains with magnitudes 1e-38…1e38, run by onnxruntime (fixed seed)', () => {
  it('every written weight is finite; outputs agree wherever the original is finite and normal in float32', async () => {
    const rand = seededRandom(1203);
    const magnitude = () => 10 ** (76 * rand() - 38);
    let compared = 0;
    for (let n = 0; n < 60; n++) {
      const [out1, in2, b1] = [0, 1, 2].map(() => Array.from({ length: 3 }, magnitude));
      const g = new CleGraph(n + 1);
      let x = g.node('Conv', 'c1', [
        'x',
        g.tensor('w1', [3, 2, 3, 3], (i) => (2 * rand() - 1) * out1![Math.floor(i / 18)]!),
        g.tensor('b1', [3], (i) => (2 * rand() - 1) * b1![i]!),
      ]);
      x = g.node('Relu', 'relu', [x]);
      g.node('Conv', 'c2', [
        x,
        g.tensor('w2', [2, 3, 1, 1], (i) => (2 * rand() - 1) * in2![i % 3]!),
        g.tensor('b2', [2], () => 0),
      ]);
      const input = [1, 2, 4, 4];
      const original = g.bytes(17, input);
      const outcome = await equalizeModel(decodeModel(original, { fileName: `chain-${n}.onnx` }), {
        biasAbsorption: false,
      });
      expect(
        await nonFiniteValues(decodeModel(outcome.bytes, { fileName: `chain-${n}.cle.onnx` })),
        `case ${n}`,
      ).to.deep.equal([]);
      const [expected, actual] = [await outputs(original, input, n), await outputs(outcome.bytes, input, n)];
      const { diff, absMax } = deviation(expected, actual);
      if (!(Number.isFinite(absMax) && expected.every((e) => e.every(Number.isFinite)) && absMax >= 1e-30)) continue;
      compared++;
      expect(diff, `case ${n}: max |y| ${absMax}, sets ${outcome.report.sets.length}`).to.be.at.most(1e-4 * absMax);
    }
    expect(compared, 'cases whose original output float32 represents').to.be.greaterThan(20);
  });
});
