// opsetUpgrade under onnxruntime-node: a model written for opset 9 with every op whose form changed since
// (Clip, Pad, Slice, Squeeze, Unsqueeze, ReduceSum, ReduceMean, Split, TopK, Softmax, Dropout) computes the
// same outputs raised to 13, 18 and 21; the real PaddleOCR models at opset 9 too; onnx.checker accepts the
// opset-13 form; ops that cannot follow are refused by name.
import { describe, it } from 'node:test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import * as ort from 'onnxruntime-node';
import { decodeModel } from '../../src/onnx/decode.js';
import { exportModel } from '../../src/onnx/export/export.js';
import { emptyPlan, mergePlans } from '../../src/onnx/export/plan.js';
import type { Model } from '../../src/onnx/model.js';
import { opsetUpgrade } from '../../src/onnx/opset-upgrade.js';
import { openModelFile } from '../../src/node/open-file.js';
import pkg from 'onnx-proto';
import { attr, modelBytes, node } from '../fixtures/onnx-bytes.js';
import { PYTHON, realModel } from '../support/node-paths.js';

const { onnx } = pkg;

const info = (name: string, dims?: number[]) => ({
  name,
  type: { tensorType: { elemType: 1, ...(dims ? { shape: { dim: dims.map((d) => ({ dimValue: d })) } } : {}) } },
});

/** x [2, 3, 4, 5] through every op whose attributes became inputs or whose meaning changed after opset 9. */
function opset9Model(): Uint8Array {
  const bytes = modelBytes(
    {
      node: [
        node('Clip', ['x'], ['c'], 'clip', [attr.float('min', -0.5), attr.float('max', 0.5)]),
        node('Pad', ['c'], ['p'], 'pad', [attr.ints('pads', [0, 0, 1, 1, 0, 0, 1, 1]), attr.float('value', 0.25)]),
        node('Slice', ['p'], ['s'], 'slice', [
          attr.ints('starts', [1]),
          attr.ints('ends', [5]),
          attr.ints('axes', [2]),
        ]),
        node('Unsqueeze', ['s'], ['u'], 'unsqueeze', [attr.ints('axes', [0])]),
        node('Squeeze', ['u'], ['q'], 'squeeze', [attr.ints('axes', [0])]),
        node('ReduceSum', ['q'], ['r'], 'reduce_sum', [attr.ints('axes', [3])]),
        node('ReduceMean', ['q'], ['m'], 'reduce_mean', [attr.ints('axes', [1]), attr.int('keepdims', 0)]),
        node('Split', ['q'], ['a', 'b'], 'split', [attr.int('axis', 2), attr.ints('split', [1, 3])]),
        node('Softmax', ['b'], ['y_softmax'], 'softmax', [attr.int('axis', 1)]),
        node('TopK', ['a'], ['y_top', 'y_index'], 'topk', [attr.int('k', 2)]),
        node('Dropout', ['r'], ['y_dropout'], 'dropout', [attr.float('ratio', 0.3)]),
        node('Identity', ['m'], ['y_mean'], 'mean'),
      ],
      input: [info('x', [2, 3, 4, 5])],
      output: [
        info('y_softmax', [2, 3, 3, 7]),
        info('y_top', [2, 3, 1, 2]),
        info('y_dropout', [2, 3, 4, 1]),
        info('y_mean', [2, 4, 7]),
      ],
    },
    9,
  );
  // IR 4, as an opset-9 exporter wrote it (and within what Debian's onnx 1.12 checker reads).
  const model = onnx.ModelProto.decode(bytes);
  model.irVersion = 4;
  return onnx.ModelProto.encode(model).finish();
}

const raised = (model: Model, target: number) => {
  const upgrade = opsetUpgrade(model, target);
  expect(upgrade.refused).to.deep.equal([]);
  return exportModel(model, mergePlans(emptyPlan(), upgrade.plan)).bytes;
};

async function outputs(bytes: Uint8Array, feeds: Record<string, ort.Tensor>): Promise<Record<string, number[]>> {
  const session = await ort.InferenceSession.create(bytes);
  const out = await session.run(feeds);
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, Array.from(v.data as Float32Array, Number)]));
}

describe('opsetUpgrade', () => {
  const x = new ort.Tensor(
    'float32',
    Float32Array.from({ length: 120 }, (_, i) => Math.sin(i * 0.7)),
    [2, 3, 4, 5],
  );

  for (const target of [13, 18, 21]) {
    it(`an opset-9 model of every changed op computes the same at opset ${target}`, async () => {
      const model = decodeModel(opset9Model(), { fileName: 'old.onnx' });
      const bytes = raised(model, target);
      const again = decodeModel(bytes, { fileName: 'new.onnx' });
      expect(again.opsets['']).to.equal(target);
      expect(again.main.nodes.map((n) => n.opType))
        .to.include('Flatten')
        .and.not.include('Dropout');
      expect(await outputs(bytes, { x })).to.deep.equal(await outputs(opset9Model(), { x }));
    });
  }

  it('the opset-13 form passes onnx.checker by path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'weightlens-opset-'));
    try {
      writeFileSync(join(dir, 'm.onnx'), raised(decodeModel(opset9Model(), { fileName: 'old.onnx' }), 13));
      execFileSync(PYTHON, [
        '-c',
        'import onnx, sys; onnx.checker.check_model(sys.argv[1], full_check=True)',
        join(dir, 'm.onnx'),
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  for (const [file, dims] of <[string, number[]][]>[
    ['ch_ppocr_mobile_v2.0_cls_infer.onnx', [1, 3, 48, 192]],
    ['ch_PP-OCRv4_rec_infer.onnx', [1, 3, 48, 320]],
  ]) {
    it(`the real ${file} (opset 9) computes the same at opsets 13 and 21`, async () => {
      const path = realModel(file);
      const model = await openModelFile(path);
      const n = dims.reduce((a, b) => a * b, 1);
      const input = new ort.Tensor(
        'float32',
        Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.013)),
        [...dims],
      );
      const expected = await outputs(readFileSync(path), { x: input });
      for (const target of [13, 21]) {
        const got = await outputs(raised(model, target), { x: input });
        for (const [name, values] of Object.entries(expected)) {
          let [worst, absMax] = [0, 0];
          values.forEach((v, i) => {
            worst = Math.max(worst, Math.abs(v - got[name]![i]!));
            absMax = Math.max(absMax, Math.abs(v));
          });
          // onnxruntime picks other kernels at opset 21 for some ops: within an ulp of the output's scale.
          expect(worst, `${name} at opset ${target}`).to.be.at.most(1e-6 * absMax);
        }
      }
    });
  }

  it('refuses, by node, ops that cannot follow: a deprecated Upsample, a Dropout whose mask is used', () => {
    const bytes = modelBytes(
      {
        node: [node('Upsample', ['x', 'scales'], ['u'], 'up'), node('Dropout', ['u'], ['y', 'mask'], 'drop')],
        input: [info('x'), info('scales')],
        output: [info('y'), info('mask')],
      },
      9,
    );
    const upgrade = opsetUpgrade(decodeModel(bytes, { fileName: 'old.onnx' }), 13);
    expect(upgrade.refused).to.deep.equal([
      'node "up" (Upsample): Upsample is deprecated from opset 10 (Resize replaces it)',
      'node "drop" (Dropout): its mask output is used',
    ]);
  });
});
