// float16/bfloat16 models: CLE computes in float32 and the export rounds the result to the stored type.
// The report's figure per layer must be ‖stored − exact‖ / ‖exact‖, recomputed here from the float32 plan
// and the exported model's own bytes; float32 models report nothing.
import { describe, it } from 'node:test';
import { expect } from 'chai';
import { formatCleSummary } from '../src/cli/cle-summary.js';
import { planCle } from '../src/cle/plan-cle.js';
import { decodeModel } from '../src/onnx/decode.js';
import { float32ToBfloat16Bits, float32ToFloat16Bits } from '../src/onnx/export/encode-values.js';
import type { Model } from '../src/onnx/model.js';
import { equalizeModel } from '../src/pipeline/equalize-model.js';
import { DataType, f32Tensor, modelBytes, node, rawTensor, u16Bytes, valueInfo } from './fixtures/onnx-bytes.js';
import { seededRandom } from './support/random.js';
import { inMemory } from './support/cle-graph.js';

type Narrow = 'float16' | 'bfloat16';

/** MatMul + Add -> Relu -> MatMul + Add with uneven columns, every tensor stored as `dtype`. */
function linearPair(dtype: Narrow | 'float32'): Model {
  const rand = seededRandom(11);
  const tensor = (name: string, dims: number[], columnSpread = 1) => {
    const cols = dims.at(-1)!;
    const factors = Array.from({ length: cols }, () => columnSpread ** (2 * rand() - 1));
    const values = Array.from(
      { length: dims.reduce((a, b) => a * b, 1) },
      (_, i) => (rand() - 0.5) * factors[i % cols]!,
    );
    if (dtype === 'float32') return f32Tensor(name, dims, values);
    const [code, bits] =
      dtype === 'float16' ? [DataType.FLOAT16, float32ToFloat16Bits] : [DataType.BFLOAT16, float32ToBfloat16Bits];
    return rawTensor(name, dims, code, u16Bytes(values.map(bits)));
  };
  const bytes = modelBytes({
    input: [valueInfo('x')],
    output: [valueInfo('y')],
    initializer: [tensor('w1', [8, 6], 30), tensor('b1', [6]), tensor('w2', [6, 4]), tensor('b2', [4])],
    node: [
      node('MatMul', ['x', 'w1'], ['h1'], 'fc1'),
      node('Add', ['h1', 'b1'], ['a1'], 'fc1_bias'),
      node('Relu', ['a1'], ['r1'], 'relu'),
      node('MatMul', ['r1', 'w2'], ['h2'], 'fc2'),
      node('Add', ['h2', 'b2'], ['y'], 'fc2_bias'),
    ],
  });
  return decodeModel(bytes, { fileName: `linear-${dtype}.onnx` });
}

/** ‖stored − exact‖ / ‖exact‖ in float64. */
function relativeChange(stored: Float32Array, exact: Float32Array): number {
  let diff = 0,
    norm = 0;
  exact.forEach((v, i) => {
    diff += (stored[i]! - v) ** 2;
    norm += v * v;
  });
  return Math.sqrt(diff / norm);
}

describe('CLE on float16 / bfloat16 models: the re-rounding is measured and reported', () => {
  for (const dtype of ['float16', 'bfloat16'] as const) {
    it(`${dtype}: each layer's figure is ‖stored − exact‖ / ‖exact‖ of its weight and bias`, async () => {
      const model = linearPair(dtype);
      const { report, bytes } = await equalizeModel(model, { biasAbsorption: false });
      const plan = (await planCle(model, { biasAbsorption: false })).plan;
      const stored = decodeModel(bytes, { fileName: 'equalized.onnx' });
      const change = async (name: string) => {
        const exact = inMemory(plan.tensors.find((t) => t.tensor.name === name)!.values);
        const t = stored.main.constants.get(name)!;
        expect(t.dtype).to.equal(dtype);
        const values = new Float32Array(t.size);
        await t.readFloat32Into(values);
        return relativeChange(values, exact);
      };
      expect(report.sets.map((s) => s.layers)).to.deep.equal([['fc1', 'fc2']]);
      const expected = [
        { name: 'fc1', dtype, weight: await change('w1'), bias: await change('b1') },
        { name: 'fc2', dtype, weight: await change('w2'), bias: await change('b2') },
      ];
      const layers = report.rounding!.layers;
      expect(layers.map((l) => [l.name, l.dtype])).to.deep.equal(expected.map((l) => [l.name, l.dtype]));
      layers.forEach((l, i) => {
        expect(l.weight, `${l.name} weight`).to.be.closeTo(expected[i]!.weight, 1e-9 * expected[i]!.weight);
        expect(l.bias, `${l.name} bias`).to.be.closeTo(expected[i]!.bias, 1e-9 * expected[i]!.bias);
      });
      // fc1's columns were rescaled, so they no longer sit on the type's grid; fc2's bias kept its values.
      const unitRoundoff = dtype === 'float16' ? 2 ** -11 : 2 ** -8;
      expect(layers[0]!.weight)
        .to.be.greaterThan(unitRoundoff / 20)
        .and.below(unitRoundoff);
      expect(layers[1]!.bias).to.equal(0);
      expect(report.rounding!.worst).to.equal(Math.max(...layers.flatMap((l) => [l.weight, l.bias!])));
      const summary = formatCleSummary(report, 'out.onnx');
      expect(summary).to.contain(
        `${dtype} re-rounding: storing the equalized weights changed them by up to ${report.rounding!.worst.toExponential(2)}`,
      );
    });
  }

  it('float32: nothing is re-rounded, and nothing is said', async () => {
    const { report } = await equalizeModel(linearPair('float32'), { biasAbsorption: false });
    expect(report.sets).to.have.length(1);
    expect(report).to.not.have.property('rounding');
    expect(formatCleSummary(report, 'out.onnx')).to.not.contain('re-rounding');
  });
});
