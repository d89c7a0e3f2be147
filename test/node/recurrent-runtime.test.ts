// The gate and direction channelLabel gives each row of W is the one onnxruntime computes with: one-step
// LSTM, GRU and RNN cells (x = 1, zero initial state, R = 0) whose rows are set by their label, run in
// onnxruntime-node. Closed forms: LSTM y = σ(o)·tanh(σ(i)·tanh(c)); GRU y = (1 − σ(z))·tanh(h).
import { describe, it } from 'node:test';
import { expect } from 'chai';
import * as ort from 'onnxruntime-node';
import { findWeightLayers } from '../../src/analysis/layers.js';
import { channelLabel } from '../../src/analysis/recurrent.js';
import { decodeModel } from '../../src/onnx/decode.js';
import { attr, f32Tensor, modelBytes, node, type IAttributeProto } from '../fixtures/onnx-bytes.js';

const FLOAT = 1;
const typed = (name: string) => ({ name, type: { tensorType: { elemType: FLOAT } } });
const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

/** `op` with hidden size H over a [1, 1, 1] input of 1; W's rows from `row(label)` of each channel. */
async function run(
  op: string,
  D: number,
  H: number,
  G: number,
  attributes: IAttributeProto[],
  row: (label: string) => number,
): Promise<Float32Array> {
  const rows = D * G * H;
  const build = (w: number[]) =>
    modelBytes(
      {
        input: [typed('x')],
        output: [typed('y')],
        initializer: [f32Tensor('W', [D, G * H, 1], w), f32Tensor('R', [D, G * H, H], new Array(rows * H).fill(0))],
        node: [node(op, ['x', 'W', 'R'], ['y'], 'cell', [attr.int('hidden_size', H), ...attributes])],
      },
      17,
    );
  // Labels come from the layer as weightlens describes it, so a wrong gate order shows as a wrong output.
  const [layer] = findWeightLayers(decodeModel(build(new Array(rows).fill(0)), { fileName: 'cell.onnx' }));
  const w = Array.from({ length: rows }, (_, c) => row(channelLabel(layer!, c)));
  const session = await ort.InferenceSession.create(build(w));
  const result = await session.run({ x: new ort.Tensor('float32', Float32Array.of(1), [1, 1, 1]) });
  return result.y!.data as Float32Array;
}

describe('gate labels match onnxruntime', () => {
  it('LSTM gates i, o, f, c: the row labelled with each gate is that gate', async () => {
    // The labelled gate's row is 0 (σ = 0.5, tanh = 0), every other row 50 (σ = tanh = 1).
    const expected: Record<string, number> = { i: Math.tanh(0.5), o: 0.5 * Math.tanh(1), f: Math.tanh(1), c: 0 };
    for (const [gate, y] of Object.entries(expected)) {
      const [out] = await run('LSTM', 1, 1, 4, [], (label) => (label.includes(`gate ${gate}`) ? 0 : 50));
      expect(out, `gate ${gate}`).to.be.closeTo(y, 1e-5);
    }
  });

  it('GRU gates z, r, h', async () => {
    // The labelled gate's row is −50, every other row 1; r does not matter from a zero state.
    const free = (1 - sigmoid(1)) * Math.tanh(1);
    const expected: Record<string, number> = { z: Math.tanh(1), r: free, h: -(1 - sigmoid(1)) };
    for (const [gate, y] of Object.entries(expected)) {
      const [out] = await run('GRU', 1, 1, 3, [], (label) => (label.includes(`gate ${gate}`) ? -50 : 1));
      expect(out, `gate ${gate}`).to.be.closeTo(y, 1e-5);
    }
  });

  it('bidirectional RNN: the forward direction first, then the reverse; units in order', async () => {
    const value = (label: string) => (label.includes('forward') ? 0.5 : -2) + (label.includes('unit 1') ? 0.25 : 0);
    const out = await run('RNN', 2, 2, 1, [attr.string('direction', 'bidirectional')], value);
    // y [seq 1, D 2, batch 1, H 2]
    expect(Array.from(out)).to.have.length(4);
    [0.5, 0.75, -2, -1.75].forEach((v, k) => expect(out[k], `y[${k}]`).to.be.closeTo(Math.tanh(v), 1e-6));
  });
});
