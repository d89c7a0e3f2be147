// Property test of CLE on random chains (fixed seeds): MatMul -> Add -> Relu -> MatMul -> Add (PyTorch's
// Linear pairs) and Conv -> Relu -> Conv of random shapes and uneven channel ranges. For every case the
// equalized model computes the same function under onnxruntime, and every equalized interface channel has
// the same range on both sides (max |W1| of output channel i = max |W2| of input channel i).
import { describe, it } from 'node:test';
import { expect } from 'chai';
import { decodeModel } from '../../src/onnx/decode.js';
import type { Model } from '../../src/onnx/model.js';
import { equalizeModel } from '../../src/pipeline/equalize-model.js';
import { CleGraph } from '../support/cle-graph.js';
import { deviation, outputs } from '../support/onnxruntime.js';
import { seededRandom } from '../support/random.js';

async function weight(model: Model, name: string): Promise<{ shape: number[]; values: Float32Array }> {
  const t = model.main.constants.get(name)!;
  const values = new Float32Array(t.size);
  await t.readFloat32Into(values);
  return { shape: [...t.shape], values };
}

/** max |w| over the elements of `w` whose index along `axis` is c, for each c. */
function absMaxAlong({ shape, values }: { shape: number[]; values: Float32Array }, axis: number): number[] {
  const stride = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const out = new Array<number>(shape[axis]!).fill(0);
  values.forEach((v, i) => {
    const c = Math.floor(i / stride) % shape[axis]!;
    out[c] = Math.max(out[c]!, Math.abs(v));
  });
  return out;
}

const int = (rand: () => number, lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));

interface Case {
  bytes: Uint8Array;
  input: number[];
  /** Weight names and the axis of layer 1's output channels / layer 2's input channels. */
  first: [string, number];
  second: [string, number];
}

function linearCase(rand: () => number, n: number): Case {
  const [k, h, m] = [int(rand, 2, 9), int(rand, 2, 9), int(rand, 1, 9)];
  const g = new CleGraph(1000 + n);
  let x = g.node('MatMul', 'fc1', ['x', g.uneven('w1', [k, h], 1, 1000)]);
  x = g.node('Add', 'fc1.add', [x, g.tensor('b1', [h])]);
  x = g.node('Relu', 'relu', [x]);
  x = g.node('MatMul', 'fc2', [x, g.uneven('w2', [h, m], 0, 1000)]);
  g.node('Add', 'fc2.add', [x, g.tensor('b2', [m])]);
  const input = [int(rand, 1, 3), k];
  return { bytes: g.bytes(17, input), input, first: ['w1', 1], second: ['w2', 0] };
}

function convCase(rand: () => number, n: number): Case {
  const [cin, mid, cout, k] = [int(rand, 1, 4), int(rand, 2, 8), int(rand, 1, 5), int(rand, 1, 3)];
  const g = new CleGraph(2000 + n);
  let x = g.node('Conv', 'c1', ['x', g.uneven('w1', [mid, cin, k, k], 0, 1000), g.tensor('b1', [mid])]);
  x = g.node('Relu', 'relu', [x]);
  g.node('Conv', 'c2', [x, g.uneven('w2', [cout, mid, 1, 1], 1, 1000), g.tensor('b2', [cout])]);
  const input = [1, cin, k + 3, k + 3];
  return { bytes: g.bytes(17, input), input, first: ['w1', 0], second: ['w2', 1] };
}

describe('CLE on random chains (property, fixed seeds)', () => {
  for (const [kind, make, seed] of [
    ['MatMul+Add -> Relu -> MatMul+Add', linearCase, 11],
    ['Conv -> Relu -> Conv', convCase, 12],
  ] as const) {
    it(`${kind}: the function is kept under onnxruntime and each interface channel's ranges are equal`, async () => {
      const rand = seededRandom(seed);
      for (let n = 0; n < 40; n++) {
        const c = make(rand, n);
        const where = `${kind} case ${n} (seed ${seed})`;
        const outcome = await equalizeModel(decodeModel(c.bytes, { fileName: `case-${n}.onnx` }), {
          biasAbsorption: false,
        });
        expect(outcome.report.sets, where).to.have.length(1);
        const { diff, absMax } = deviation(
          await outputs(c.bytes, c.input, n),
          await outputs(outcome.bytes, c.input, n),
        );
        expect(diff, where).to.be.at.most(1e-4 * absMax);
        const after = decodeModel(outcome.bytes, { fileName: `case-${n}.cle.onnx` });
        const r1 = absMaxAlong(await weight(after, c.first[0]), c.first[1]);
        const r2 = absMaxAlong(await weight(after, c.second[0]), c.second[1]);
        r1.forEach((r, i) => expect(r, `${where}: channel ${i}`).to.be.closeTo(r2[i]!, 1e-5 * Math.max(r, r2[i]!)));
      }
    });
  }
});
