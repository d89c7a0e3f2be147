// Issue 4's central bar: the equalized model computes the same function. onnxruntime-node runs the
// original and the exported model on the same random inputs; outputs must agree within
// 1e-4 x max(the output's absmax, 0.01). The exported files also pass onnx.checker (Debian python3-onnx).
// BN folding and CLE are exact rewrites; high-bias absorption is not (it assumes pre-activations stay
// above β - 3|γ| and ignores zero padding, as in Nagel et al.), so it is measured separately below.
import { describe, it, before, after } from 'node:test';
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { decodeModel } from '../../src/onnx/decode.js';
import { equalizeModel } from '../../src/pipeline/equalize-model.js';
import type { CleOutcome } from '../../src/report/cle-report.js';
import { convPooling, gemmMatMulMix, linearMlp, poolingAbsorption } from '../fixtures/cle-linear-models.js';
import { convTransposeChainBytes } from '../fixtures/convtranspose-chain.js';
import { mobilenetV2Bytes } from '../fixtures/mobilenetv2.js';
import { seededRandom } from '../support/random.js';
import { ROOT, realModel } from '../support/node-paths.js';
import { checkModel } from '../support/onnx-checker.js';
import { deviation, outputs } from '../support/onnxruntime.js';

interface Case {
  name: string;
  bytes: () => Uint8Array;
  input: number[];
  /** What CLE must have found, so a test cannot pass by doing nothing. */
  expectWork: (o: CleOutcome) => void;
}

const real = (file: string) => () => new Uint8Array(readFileSync(realModel(file)));

const CASES: Case[] = [
  {
    name: 'PP-OCR mobile cls (BatchNorm unfolded, Relu and HardSwish)',
    bytes: real('ch_ppocr_mobile_v2.0_cls_infer.onnx'),
    input: [1, 3, 48, 192],
    expectWork: (o) => expect(o.report.folded.length).to.be.greaterThan(20),
  },
  {
    name: 'PP-OCRv4 det (ConvTranspose, BatchNorm, Sigmoid output)',
    bytes: real('ch_PP-OCRv4_det_infer.onnx'),
    input: [1, 3, 64, 96],
    expectWork: (o) => expect(o.report.folded.length + o.report.sets.length).to.be.greaterThan(0),
  },
  {
    name: 'PP-OCRv4 rec',
    bytes: real('ch_PP-OCRv4_rec_infer.onnx'),
    input: [1, 3, 48, 160],
    expectWork: (o) => expect(o.report.layers.length).to.be.greaterThan(10),
  },
  {
    name: 'MobileNetV2-shaped (unfolded BN, depthwise triplets, Relu)',
    bytes: () => mobilenetV2Bytes({ width: 0.5, resolution: 96, activation: 'Relu' }).bytes,
    input: [1, 3, 96, 96],
    expectWork: (o) => {
      expect(o.report.folded.length).to.be.greaterThan(40);
      expect(o.report.sets.filter((s) => s.kind === 'triplet').length).to.be.greaterThan(10);
    },
  },
  {
    name: 'Conv -> ConvTranspose (Cin 4 != Cout 6, group 2) -> Conv',
    bytes: () => convTransposeChainBytes().bytes,
    input: [1, 4, 8, 8],
    expectWork: (o) =>
      expect(o.report.sets.some((s) => s.layers.some((l) => /ConvTranspose|convtranspose/i.test(l)))).to.equal(true),
  },
  {
    name: 'Linear-style: MatMul + Add -> Relu -> MatMul + Add -> Relu -> MatMul + Add',
    bytes: () => linearMlp().bytes,
    input: linearMlp().inputShape,
    expectWork: (o) =>
      expect(o.report.chains.map((c) => c.layers)).to.deep.equal([['matmul_0', 'matmul_3', 'matmul_6']]),
  },
  {
    name: 'Gemm (transB 1) -> Linear -> Gemm (transB 0) -> MatMul, Relus between',
    bytes: () => gemmMatMulMix().bytes,
    input: gemmMatMulMix().inputShape,
    expectWork: (o) =>
      expect(o.report.chains.map((c) => c.layers)).to.deep.equal([['gemm_0', 'matmul_2', 'gemm_5', 'matmul_7']]),
  },
  {
    name: 'Conv -> MaxPool -> Conv -> AveragePool (pads counted) -> Conv -> GlobalAveragePool -> Flatten -> Gemm -> Linear',
    bytes: () => convPooling().bytes,
    input: convPooling().inputShape,
    expectWork: (o) => {
      expect(o.report.chains).to.have.length(1);
      expect(o.report.sets.map((s) => s.between)).to.deep.equal([
        ['Relu', 'MaxPool'],
        ['Relu', 'AveragePool'],
        ['Relu', 'GlobalAveragePool', 'Flatten'],
        ['Relu'],
      ]);
    },
  },
];

describe('CLE preserves the function (onnxruntime-node)', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'weightlens-cle-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const c of CASES) {
    it(c.name, async () => {
      const original = c.bytes();
      const model = decodeModel(original, { fileName: `${c.name}.onnx` });
      const outcome = await equalizeModel(model, { biasAbsorption: false });
      c.expectWork(outcome);
      for (const seed of [1, 2]) {
        const [expected, actual] = await Promise.all([
          outputs(original, c.input, seed),
          outputs(outcome.bytes, c.input, seed),
        ]);
        const { diff, absMax } = deviation(expected, actual);
        expect(diff, `${c.name}, seed ${seed}: max |diff| vs bound`).to.be.at.most(1e-4 * Math.max(absMax, 0.01));
      }
      const path = join(dir, 'equalized.onnx');
      writeFileSync(path, outcome.bytes);
      checkModel(path);
    });
  }

  it('Silero VAD v5: its Convs are equalized, the LSTM layers built by Slice/Concat are named in skipped, and the function is kept', async () => {
    const original = new Uint8Array(
      readFileSync(join(ROOT, 'node_modules/@ricky0123/vad-web/dist/silero_vad_v5.onnx')),
    );
    const outcome = await equalizeModel(decodeModel(original, { fileName: 'silero_vad_v5.onnx' }), {
      biasAbsorption: false,
    });
    expect(outcome.report.sets.length).to.be.greaterThan(0);
    const skipped = outcome.report.skipped.filter((s) =>
      s.layers.some((l) => l.endsWith('/LSTM/W') || l.endsWith('/LSTM/R')),
    );
    expect(skipped, 'W and R of 4 LSTMs').to.have.length(8);
    for (const s of skipped) expect(s.reason).to.contain('is a weight of LSTM');
    // 512 samples at 16 kHz, the recurrent state and the sample rate; both outputs (probability, new state) compared.
    const run = async (bytes: Uint8Array, seed: number) => {
      const session = await ort.InferenceSession.create(bytes);
      const rand = seededRandom(seed);
      const noise = (n: number) => Float32Array.from({ length: n }, () => rand() * 2 - 1);
      const result = await session.run({
        input: new ort.Tensor('float32', noise(512), [1, 512]),
        state: new ort.Tensor(
          'float32',
          noise(256).map((v) => v * 0.5),
          [2, 1, 128],
        ),
        sr: new ort.Tensor('int64', BigInt64Array.of(16000n), []),
      });
      return session.outputNames.map((n) => result[n]!.data as Float32Array);
    };
    for (const seed of [1, 2]) {
      const { diff, absMax } = deviation(await run(original, seed), await run(outcome.bytes, seed));
      expect(absMax, 'the model produced output').to.be.greaterThan(0);
      expect(diff, `seed ${seed}`).to.be.at.most(1e-4 * Math.max(absMax, 0.01));
    }
  });

  it('high-bias absorption across MaxPool, GlobalAveragePool and Flatten into a Linear bias is exact where its assumption holds', async () => {
    const { bytes, inputShape } = poolingAbsorption();
    const outcome = await equalizeModel(decodeModel(bytes, { fileName: 'pooling-absorption.onnx' }));
    expect(outcome.report.biasAbsorbed.map((a) => [a.from, a.to])).to.deep.equal([
      ['conv_0', 'conv_4'],
      ['conv_4', 'matmul_9'],
    ]);
    for (const seed of [1, 2]) {
      const { diff, absMax } = deviation(
        await outputs(bytes, inputShape, seed),
        await outputs(outcome.bytes, inputShape, seed),
      );
      expect(diff, `seed ${seed}`).to.be.at.most(1e-4 * absMax);
    }
  });

  it('high-bias absorption on PP-OCR cls: applied, and its (approximate) effect stays within 1% of the output range', async () => {
    const original = CASES[0]!.bytes();
    const outcome = await equalizeModel(decodeModel(original, { fileName: 'cls.onnx' }));
    expect(outcome.report.biasAbsorbed.length).to.be.greaterThan(0);
    const [expected, actual] = await Promise.all([
      outputs(original, [1, 3, 48, 192], 1),
      outputs(outcome.bytes, [1, 3, 48, 192], 1),
    ]);
    const { diff, absMax } = deviation(expected, actual);
    console.log(`bias absorption on cls: max |diff| ${diff.toExponential(2)} (output absmax ${absMax.toFixed(3)})`);
    expect(diff)
      .to.be.greaterThan(0)
      .and.at.most(0.01 * absMax);
  });
});
