// Node-only: generated LLaMA-shaped models with external data (test/fixtures/llama/) through the real
// `weightlens` command, as users run it: a ~300 MB float32 model (stats; cle into another folder, whose
// output is one data file of about the input's size, passes onnx.checker by path and computes what the input
// computes under onnxruntime-node), a small MatMulNBits variant, and a 2.5 GB embedding in a sparse file
// (no single read of 2 GiB or more; memory bounded by a chunk, not by the tensor).
import { after, before, describe, it } from 'node:test';
import { expect } from 'chai';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CleReport } from '../../src/report/cle-report.js';
import type { StatsReport } from '../../src/report/stats-report.js';
import { generateLlama } from '../fixtures/llama/generate-llama.js';
import { runNode } from '../support/child-process.js';
import { ROOT } from '../support/node-paths.js';
import { checkModel } from '../support/onnx-checker.js';
import { deviation, outputsForIds } from '../support/onnxruntime.js';
import { seededRandom } from '../support/random.js';

const weightlens = (...args: string[]) =>
  runNode(join(ROOT, 'bin/weightlens.js'), args, { cwd: ROOT, hangAfterMs: 300_000 });

describe('generated LLaMA-shaped models through the CLI', () => {
  let dir = '';
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'weightlens-llama-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('~300 MB float32: stats reads every layer; cle writes one data file of ≤ 1.05x, checker passes, function kept', async () => {
    // An OPT-style Relu MLP, so CLE rewrites the up/down pairs (a LLaMA decoder has none); attention,
    // embedding and lm_head are copied through into the new data file.
    const shape = { layers: 6, hidden: 1024, ffn: 2816, vocab: 8000, mlp: 'relu' as const };
    const model = generateLlama(join(dir, 'in'), shape);
    expect(model.weightBytes).to.be.within(280e6, 320e6);

    const stats = await weightlens('stats', model.model, '--json');
    expect(stats.status, stats.stderr).to.equal(0);
    const report = JSON.parse(stats.stdout) as StatsReport;
    expect(report.layers).to.have.length(model.weightLayers);
    expect(report.layers.find((l) => l.name === '/lm_head/MatMul')?.shape).to.deep.equal([1024, 8000]);

    const output = join(dir, 'out', 'llama-cle.onnx');
    const cle = await weightlens('cle', model.model, '-o', output, '--json');
    expect(cle.status, cle.stderr).to.equal(0);
    expect((JSON.parse(cle.stdout) as CleReport).sets).to.have.length(shape.layers);
    const written = readdirSync(join(dir, 'out'));
    expect(written).to.have.length(2);
    const dataFile = written.find((f) => f !== 'llama-cle.onnx')!;
    const inputData = statSync(model.dataFiles[0]!).size;
    expect(statSync(join(dir, 'out', dataFile)).size).to.be.within(model.weightBytes, 1.05 * inputData);

    checkModel(output, { byPath: true });
    const random = seededRandom(14);
    const ids = Array.from({ length: 8 }, () => Math.floor(random() * shape.vocab));
    const [expected, actual] = [await outputsForIds(model.model, ids), await outputsForIds(output, ids)];
    const { diff, absMax } = deviation(expected, actual);
    expect(absMax).to.be.greaterThan(0);
    expect(diff, 'max |diff| vs 1e-4 × max |output|').to.be.at.most(1e-4 * absMax);
  });

  it('MatMulNBits variant (4-bit, block 32, float16, 3 data files): every layer read as a weight layer', async () => {
    const model = generateLlama(join(dir, 'nbits'), { nbits: true, dtype: 'float16', dataFiles: 3 });
    expect(model.dataFiles).to.have.length(3);
    const stats = await weightlens('stats', model.model, '--json');
    expect(stats.status, stats.stderr).to.equal(0);
    const report = JSON.parse(stats.stdout) as StatsReport;
    expect(report.layers).to.have.length(model.weightLayers);
    const ops = report.layers.map((l) => l.op);
    expect(ops.filter((op) => op === 'MatMulNBits')).to.have.length(model.weightLayers - 1);
    expect(ops[0]).to.equal('Gather');
    const down = report.layers.find((l) => l.name.endsWith('layers.0.mlp.down_proj/MatMulNBits'))!;
    expect(down.shape).to.deep.equal([704, 256]); // B_deq [K, N]
    expect(down.channels.max).to.have.length(256);
    expect(down.channels.max.every((max, c) => max! > down.channels.min[c]!)).to.equal(true);
    // onnxruntime reads the same files and computes finite logits
    const [logits] = await outputsForIds(model.model, [0, 7, 999]);
    expect(logits!.length).to.equal(3 * 1000);
    expect(logits!.every(Number.isFinite)).to.equal(true);
  });

  it('a 2.5 GB embedding (sparse file, zeros): stats succeeds with memory bounded by a chunk', async () => {
    const model = generateLlama(join(dir, 'sparse'), {
      embeddingOnly: true,
      sparse: true,
      vocab: 160_000,
      hidden: 4096,
    });
    expect(model.weightBytes).to.be.greaterThan(2 ** 31);
    const stats = await weightlens('stats', model.model);
    expect(stats.status, stats.stderr).to.equal(0);
    expect(stats.stdout).to.contain('[160000,4096]');
    // at most 512 MB above one chunk (128 MB); the tensor alone is 2.6 GB
    expect(stats.maxRssKb / 1024, 'peak RSS (MB)').to.be.below(640);
  });
});
