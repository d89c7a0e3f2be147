// CLE on MatMul layers (PyTorch's Linear: MatMul + Add of a bias) and across pooling: equal ranges on
// both sides of each interface, the Add's bias scaled with its columns, high-bias absorption into it, and
// the cases where absorption is refused with a reason. The function under onnxruntime:
// test/node/cle-function.test.ts.
import { describe, it } from 'node:test';
import { expect } from 'chai';
import { planCle, type CleResult } from '../src/cle/plan-cle.js';
import { attr, CleGraph, inMemory } from './support/cle-graph.js';

/** The values the plan writes to `tensor`, edited or new. */
const edited = (r: CleResult, tensor: string) => {
  const values = r.plan.tensors.find((t) => t.tensor.name === tensor)?.values;
  return values ? inMemory(values) : r.plan.addInitializers.find((t) => t.name === tensor)?.values;
};
const range = (n: number, f: (k: number) => number) => Array.from({ length: n }, (_, k) => f(k));

/** max |w| of column c of a row-major [rows, cols] matrix (a MatMul weight's output channel c). */
const columnMax = (w: Float32Array, cols: number, c: number) =>
  Math.max(...range(w.length / cols, (r) => Math.abs(w[r * cols + c]!)));
/** max |w| of row r (a MatMul weight's input channel r). */
const rowMax = (w: Float32Array, cols: number, r: number) =>
  Math.max(...range(cols, (c) => Math.abs(w[r * cols + c]!)));

/** x -> Conv -> BN (β well above 3|γ| in half the channels) -> Relu -> `ops` -> MatMul (+ Add of a bias). */
function convBnToLinear(ops: (g: CleGraph, x: string) => string, linearBias: boolean): CleGraph {
  const g = new CleGraph(5);
  let x = g.node('Conv', 'conv', ['x', g.uneven('conv.w', [4, 3, 3, 3], 0)], [attr.ints('pads', [1, 1, 1, 1])]);
  const t = (name: string, values: number[]) => g.tensor(`bn.${name}`, [4], values);
  x = g.node(
    'BatchNormalization',
    'bn',
    [x, t('scale', [1, 0.5, 1, 0.5]), t('bias', [4, 0.1, 5, -1]), t('mean', [0, 0, 0, 0]), t('var', [1, 1, 1, 1])],
    [attr.float('epsilon', 0)],
  );
  x = ops(g, g.node('Relu', 'relu', [x]));
  x = g.node('MatMul', 'mm', [x, g.uneven('mm.w', [4, 5], 0)]);
  if (linearBias) g.node('Add', 'mm_bias', [x, g.tensor('mm.b', [5])]);
  return g;
}

const headOps =
  (pool: string, attributes: ReturnType<typeof attr.int>[] = []) =>
  (g: CleGraph, x: string) =>
    g.node('Flatten', 'flat', [g.node('GlobalAveragePool', 'gap', [g.node(pool, 'pool', [x], attributes)])]);

describe('CLE on MatMul layers', () => {
  it('MatMul + Add -> Relu -> MatMul + Add: ranges equal at the interface, the Add bias scaled with its columns', async () => {
    const g = new CleGraph(2);
    let x = g.node('MatMul', 'mm0', ['x', g.uneven('mm0.w', [6, 4], 1)]);
    x = g.node('Add', 'mm0_bias', [x, g.tensor('mm0.b', [1, 4], [0.5, -1, 2, 0.25])]);
    x = g.node('Relu', 'relu', [x]);
    x = g.node('MatMul', 'mm1', [x, g.uneven('mm1.w', [4, 3], 0)]);
    g.node('Add', 'mm1_bias', [x, g.tensor('mm1.b', [3], [1, 2, 3])]);
    const model = g.model();
    const r = await planCle(model, { biasAbsorption: false });
    expect(r.sets).to.deep.equal([{ kind: 'pair', layers: ['mm0', 'mm1'], between: ['Relu'] }]);
    const w0 = new Float32Array(24);
    await model.main.constants.get('mm0.w')!.readFloat32Into(w0);
    const [a, b, bias] = [edited(r, 'mm0.w')!, edited(r, 'mm1.w')!, edited(r, 'mm0.b')!];
    const before = [0.5, -1, 2, 0.25];
    for (let i = 0; i < 4; i++) {
      expect(columnMax(a, 4, i), `channel ${i}`).to.be.closeTo(rowMax(b, 3, i), 1e-6 * rowMax(b, 3, i));
      const s = w0[i]! / a[i]!; // column i of mm0 was divided by s_i
      expect(s).to.not.be.closeTo(1, 1e-3);
      expect(bias[i], `bias ${i}`).to.be.closeTo(before[i]! / s, 1e-6 * Math.abs(before[i]!));
    }
    expect(Array.from(edited(r, 'mm1.b')!)).to.deep.equal([1, 2, 3]); // the chain's last outputs keep their scale
    expect(r.plan.appendInputs).to.deep.equal([]);
  });

  it('a MatMul without bias gains none: only its weight is written', async () => {
    const g = new CleGraph(3);
    let x = g.node('MatMul', 'mm0', ['x', g.uneven('mm0.w', [3, 4], 1)]);
    x = g.node('Relu', 'relu', [x]);
    g.node('MatMul', 'mm1', [x, g.uneven('mm1.w', [4, 2], 0)]);
    const r = await planCle(g.model());
    expect(r.plan.tensors.map((t) => t.tensor.name)).to.deep.equal(['mm0.w', 'mm1.w']);
    expect(r.plan.addInitializers).to.deep.equal([]);
    expect(r.plan.appendInputs).to.deep.equal([]);
  });
});

describe('CLE across pooling: high-bias absorption', () => {
  it('absorbs across MaxPool, GlobalAveragePool and Flatten into the Add bias of a MatMul', async () => {
    const build = () => convBnToLinear(headOps('MaxPool', [attr.ints('kernel_shape', [2, 2])]), true).model();
    const [without, withAbs] = [
      await planCle(build(), { biasAbsorption: false }),
      await planCle(build(), { biasAbsorption: true }),
    ];
    expect(withAbs.sets).to.deep.equal([
      { kind: 'pair', layers: ['conv', 'mm'], between: ['Relu', 'MaxPool', 'GlobalAveragePool', 'Flatten'] },
    ]);
    expect(withAbs.biasAbsorbed).to.deep.equal([{ from: 'conv', to: 'mm', channels: 2 }]);
    // What left conv's bias (c per channel) comes back through mm's weight: b2 += Σ_i W2[i, o] · c_i.
    const c = range(4, (i) => edited(without, 'conv.bias_folded')![i]! - edited(withAbs, 'conv.bias_folded')![i]!);
    expect(c.filter((v) => v > 0)).to.have.length(2);
    const w2 = edited(without, 'mm.w')!;
    for (let o = 0; o < 5; o++) {
      const expected = edited(without, 'mm.b')![o]! + c.reduce((sum, ci, i) => sum + w2[i * 5 + o]! * ci, 0);
      expect(edited(withAbs, 'mm.b')![o]).to.be.closeTo(expected, 1e-5);
    }
  });

  it('refuses, with the reason, absorption across an AveragePool that averages zero padding in, or into a MatMul with no bias', async () => {
    const padded = [attr.ints('kernel_shape', [3, 3]), attr.ints('pads', [1, 1, 1, 1])];
    const counting = await planCle(
      convBnToLinear(headOps('AveragePool', [...padded, attr.int('count_include_pad', 1)]), true).model(),
    );
    expect(counting.sets).to.have.length(1);
    expect(counting.biasAbsorbed).to.deep.equal([]);
    expect(counting.skipped).to.deep.equal([
      {
        layers: ['conv', 'mm'],
        reason:
          'high-bias absorption from conv into mm not applied: AveragePool pool averages zero padding in (count_include_pad=1), so a shift does not pass it evenly',
      },
    ]);
    const notCounting = await planCle(convBnToLinear(headOps('AveragePool', padded), true).model());
    expect(notCounting.biasAbsorbed).to.deep.equal([{ from: 'conv', to: 'mm', channels: 2 }]);

    const noBias = await planCle(
      convBnToLinear(headOps('MaxPool', [attr.ints('kernel_shape', [2, 2])]), false).model(),
    );
    expect(noBias.biasAbsorbed).to.deep.equal([]);
    expect(noBias.skipped.map((s) => s.reason)).to.deep.equal([
      'high-bias absorption from conv into mm not applied: MatMul mm has no bias (no Add of a constant after it) to take the shift',
    ]);
  });
});
