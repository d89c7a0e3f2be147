// Models of onnxruntime's 4-bit formats written by test/reference/nbits_model.py (numpy packing): the weights
// weightlens dequantizes equal, bit for bit, what numpy computes and what onnxruntime-node itself computes —
// MatMulNBits fed the identity writes B_deq (+ bias), GatherBlockQuantized fed every row index writes the table — and
// the report carries the file's scales and zero points; `weightlens stats` and `cle` treat the model as a user
// would run them.
import { after, before, describe, it } from 'node:test';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import * as ort from 'onnxruntime-node';
import { findWeightLayers } from '../../src/analysis/layers.js';
import { float32ToFloat16Bits } from '../../src/onnx/export/encode-values.js';
import { openModelFile } from '../../src/node/open-file.js';
import { computeStats } from '../../src/pipeline/compute-stats.js';
import type { StatsReport } from '../../src/report/stats-report.js';
import { PYTHON, ROOT } from '../support/node-paths.js';
import { tensorValues } from '../support/tensors.js';

interface Written {
  name: string;
  weight: number[];
  scales: number[];
  zeroPoints: number[];
}

interface LayerSpec {
  block_size: number;
  bits?: number;
  scales?: 'float16';
  K?: number;
  N?: number;
  zero_points?: 'packed' | 'float' | boolean;
  bias?: boolean;
  rows?: number;
  width?: number;
  dtype?: 'int4' | 'uint4' | 'uint8';
  quantize_axis?: number;
}

// K not a multiple of block_size, block sizes 16–128, zero points absent / packed / float, float16 scales.
const SPEC: { seed: number; matmul: LayerSpec[]; gather: LayerSpec[] } = {
  seed: 14,
  matmul: [
    { K: 100, N: 24, block_size: 32 },
    { K: 128, N: 16, block_size: 16, zero_points: 'packed' },
    { K: 70, N: 10, block_size: 64, zero_points: 'float' },
    { K: 130, N: 12, block_size: 128, zero_points: 'packed', scales: 'float16' },
    { K: 96, N: 8, block_size: 32, zero_points: 'float', scales: 'float16' },
    { K: 200, N: 6, block_size: 128, scales: 'float16', bias: true },
    { K: 64, N: 8, block_size: 32, bits: 8, zero_points: 'packed' },
  ],
  gather: [
    { rows: 20, width: 100, block_size: 32, dtype: 'int4', zero_points: true },
    { rows: 20, width: 64, block_size: 16, dtype: 'uint4' },
    { rows: 12, width: 80, block_size: 32, dtype: 'uint8', zero_points: true, scales: 'float16' },
    { rows: 12, width: 48, block_size: 16, dtype: 'uint8' },
    { rows: 40, width: 24, block_size: 16, dtype: 'int4', quantize_axis: 0 },
    { rows: 12, width: 48, block_size: 64, dtype: 'uint8', bits: 8, zero_points: true },
  ],
};

/** What onnxruntime writes for each layer: B_deq for an identity A, the whole table for ids 0…rows−1. */
async function onnxruntimeWeights(path: string): Promise<Map<string, { type: string; data: ArrayLike<number> }>> {
  const session = await ort.InferenceSession.create(path);
  const feeds: Record<string, ort.Tensor> = {};
  for (const meta of session.inputMetadata) {
    if (!meta.isTensor) continue;
    const n = meta.shape[0] as number;
    if (meta.name.startsWith('ids')) {
      feeds[meta.name] = new ort.Tensor(
        'int64',
        BigInt64Array.from({ length: n }, (_, i) => BigInt(i)),
        [n],
      );
    } else {
      const half = meta.type === 'float16';
      const identity = half ? new Uint16Array(n * n) : new Float32Array(n * n);
      for (let k = 0; k < n; k++) identity[k * n + k] = half ? 0x3c00 : 1;
      feeds[meta.name] = new ort.Tensor(meta.type, identity, [n, n]);
    }
  }
  const result = await session.run(feeds);
  const out = new Map<string, { type: string; data: ArrayLike<number> }>();
  // y<i> is MatMulNBits "mm<i>", e<i> GatherBlockQuantized "g<i>".
  for (const [name, t] of Object.entries(result))
    out.set(name.replace(/^y/, 'mm').replace(/^e/, 'g'), { type: t.type, data: t.data as ArrayLike<number> });
  return out;
}

describe('MatMulNBits and GatherBlockQuantized against numpy and onnxruntime', () => {
  let dir: string;
  let path: string;
  let written: Written[];
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'weightlens-nbits-'));
    path = join(dir, 'nbits.onnx');
    writeFileSync(join(dir, 'spec.json'), JSON.stringify(SPEC));
    const stdout = execFileSync(PYTHON, ['test/reference/nbits_model.py', join(dir, 'spec.json'), path], {
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    });
    const parsed = JSON.parse(stdout) as { matmul: Written[]; gather: Written[] };
    written = [...parsed.matmul, ...parsed.gather];
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('every dequantized weight equals numpy and onnxruntime bit for bit (float16 outputs: ours rounded to float16)', async () => {
    const layers = findWeightLayers(await openModelFile(path));
    expect(layers.map((l) => l.name)).to.deep.equal(written.map((w) => w.name));
    const runtime = await onnxruntimeWeights(path);
    let compared = 0;
    for (const [i, layer] of layers.entries()) {
      const ours = await tensorValues(layer.weight);
      expect(ours, `${layer.name} vs numpy`).to.deep.equal(written[i]!.weight);
      const { type, data } = runtime.get(layer.name)!;
      // With a bias, onnxruntime adds it in float32 to the one product an identity row makes.
      const bias = layer.bias ? await tensorValues(layer.bias) : undefined;
      const y = bias ? ours.map((w, j) => Math.fround(w + bias[j % bias.length]!)) : ours;
      const expected = type === 'float16' ? y.map(float32ToFloat16Bits) : y;
      expect(Array.from(data), `${layer.name} vs onnxruntime (${type})`).to.deep.equal(expected);
      compared += ours.length;
    }
    expect(compared).to.equal(
      SPEC.matmul.reduce((a, m) => a + m.K! * m.N!, 0) + SPEC.gather.reduce((a, g) => a + g.rows! * g.width!, 0),
    );
  });

  it("the report gives each layer's stored type, blocks and the file's scales and zero points", async () => {
    const report = await computeStats(await openModelFile(path), { quant: true });
    for (const [i, layer] of report.layers.entries()) {
      const spec = i < SPEC.matmul.length ? SPEC.matmul[i]! : SPEC.gather[i - SPEC.matmul.length]!;
      const gather = spec.dtype !== undefined;
      const bits = spec.bits ?? 4;
      // int4/uint4 tables without zero points have zero point 0, which the report (as for QDQ) leaves null.
      const defaultZero = gather && spec.dtype !== 'uint8' && !spec.zero_points;
      expect(layer.modelQuantization, layer.name).to.deep.equal({
        dtype: gather && spec.dtype !== 'uint8' ? spec.dtype : bits === 8 ? 'uint8' : 'uint4',
        mode: 'blocked',
        axis: gather ? (spec.quantize_axis ?? 1) : 0,
        blockSize: spec.block_size,
        scales: written[i]!.scales.map(Math.fround),
        zeroPoints: defaultZero ? null : written[i]!.zeroPoints.map(Math.fround),
      });
      expect(layer.channelAxis, layer.name).to.equal(gather ? 0 : 1);
      expect(layer.quant, layer.name).to.not.equal(undefined);
    }
    expect(report.layers.filter((l) => l.bias !== null).map((l) => l.name)).to.deep.equal(['mm5']);
  });

  it('weightlens stats lists the layers under their own ops; weightlens cle refuses with the reason', () => {
    const cli = (...args: string[]) =>
      spawnSync(process.execPath, [join(ROOT, 'bin/weightlens.js'), ...args], { cwd: ROOT, encoding: 'utf8' });
    const json = cli('stats', path, '--json');
    expect(json.status, json.stderr).to.equal(0);
    const report = JSON.parse(json.stdout) as StatsReport;
    expect(new Set(report.layers.map((l) => l.op))).to.deep.equal(new Set(['MatMulNBits', 'GatherBlockQuantized']));
    const output = join(dir, 'cle.onnx');
    const cle = cli('cle', path, '-o', output);
    expect(cle.status).to.equal(2);
    expect(cle.stderr).to.contain('[USAGE]').and.contain('MatMulNBits "mm0"').and.contain('before quantization');
    expect(() => readFileSync(output)).to.throw();
  });
});
