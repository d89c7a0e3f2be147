// CLE never writes NaN or ±Inf into a model whose weights were finite: a BatchNorm that cannot be folded
// into finite float32 values, a chain whose scales would leave float32 and a bias absorption that would
// overflow are skipped with a reason; weights already NaN/±Inf are left as they are, and the skip says so.
// Every value of the plan is checked, element by element.
import { describe, it } from 'node:test';
import { expect } from 'chai';
import { chainScaleProblem } from '../src/cle/float32-bounds.js';
import { planCle, type CleResult } from '../src/cle/plan-cle.js';
import { convPair, type ConvPairOptions } from './fixtures/bad-attributes.js';
import { attr, CleGraph, randomInput, run, type Tensor, inMemory } from './support/cle-graph.js';
import { seededRandom } from './support/random.js';

/** Every value the plan would write, with the tensor it belongs to. */
function written(r: CleResult): { tensor: string; values: Float32Array }[] {
  return [
    ...r.plan.tensors.map((t) => ({ tensor: t.tensor.name, values: inMemory(t.values) })),
    ...r.plan.addInitializers.map((t) => ({ tensor: t.name, values: t.values })),
  ];
}

function expectAllFinite(r: CleResult, what = ''): void {
  for (const { tensor, values } of written(r)) {
    values.forEach((v, i) => expect(Number.isFinite(v), `${what}${tensor}[${i}] = ${v}`).to.equal(true));
  }
}

const reasons = (r: CleResult) => r.skipped.map((s) => s.reason);

/** max |a − b| and max |a| (an all-zero output after the Relu must stay all zero). */
function deviation(a: Tensor, b: Tensor): { diff: number; absMax: number } {
  let diff = 0,
    absMax = 0;
  a.data.forEach((v, i) => {
    diff = Math.max(diff, Math.abs(v - b.data[i]!));
    absMax = Math.max(absMax, Math.abs(v));
  });
  return { diff, absMax };
}
const plan = (options: ConvPairOptions, biasAbsorption = false) =>
  planCle(convPair(options).model(), { biasAbsorption });

describe('CLE: BatchNorms that cannot be folded into finite float32 values are skipped', () => {
  const cases: { what: string; bn: NonNullable<ConvPairOptions['bn']>; w1?: ConvPairOptions['w1']; says: string }[] = [
    {
      what: 'parameters of 3 channels after a conv with 4',
      bn: { channels: 3 },
      says: 'bn not folded: its scale "bn.scale" has 3 values, c1 has 4 output channels',
    },
    {
      what: 'variance 0 and epsilon 0',
      bn: { var: () => 0, epsilon: 0 },
      says: 'bn not folded: channel 0 has var + epsilon = 0',
    },
    {
      what: 'a negative variance',
      bn: { var: (i) => (i === 2 ? -1 : 1) },
      says: 'bn not folded: channel 2 has a negative variance (-1)',
    },
    {
      what: 'var + epsilon below 0',
      bn: { var: () => 0, epsilon: -1e-3 },
      says: 'channel 0 has var + epsilon = -0.001',
    },
    {
      what: 'an infinite epsilon',
      bn: { epsilon: Infinity },
      says: 'bn not folded: its epsilon is Infinity, not a finite float',
    },
    {
      what: 'a NaN mean',
      bn: { mean: (i) => (i === 1 ? NaN : 0) },
      says: 'channel 1 has a parameter that is NaN or ±Inf',
    },
    {
      what: 'weights near 3.4e38 times scale/sigma 14',
      bn: { scale: () => 10 },
      w1: () => 3e38,
      says: "channel 0's factor scale/sqrt(var + epsilon) = 14.1 would take its weights",
    },
    {
      what: 'a folded bias beyond float32',
      bn: { bias: () => 3e38, mean: () => -3e38, scale: () => 1, var: () => 1, epsilon: 0 },
      says: 'folded bias (6.00e+38) is beyond float32',
    },
  ];
  for (const c of cases) {
    it(`${c.what}: not folded, the BatchNorm stays, every written value is finite`, async () => {
      const r = await plan({ bn: c.bn, ...(c.w1 ? { w1: c.w1 } : {}) });
      expect(r.folded).to.deep.equal([]);
      expect(
        reasons(r).some((reason) => reason.includes(c.says)),
        reasons(r).join('\n'),
      ).to.equal(true);
      expect(r.skipped.find((s) => s.reason.includes(c.says))!.layers).to.deep.equal(['c1', 'bn']);
      expect(r.plan.removeNodes.map((n) => n.name)).to.not.include('bn');
      expectAllFinite(r);
    });
  }

  it('a BatchNorm that can be folded still is (the checks refuse only what would not be finite)', async () => {
    const r = await plan({ bn: {} });
    expect(r.folded).to.deep.equal([{ batchNorm: 'bn', into: 'c1' }]);
    expect(r.sets.map((s) => s.layers)).to.deep.equal([['c1', 'c2']]);
    expectAllFinite(r);
  });
});

describe('CLE: chains whose scales would leave float32 are skipped', () => {
  it('a bias divided by a tiny scale (b1 3e38, w1 1e-30): not equalized, named', async () => {
    const r = await plan({ w1: () => 1e-30, b1: () => 3e38, w2: () => 1 });
    expect(r.sets).to.deep.equal([]);
    expect(reasons(r)).to.deep.equal(["c1 → c2 not equalized: c1's bias on channel 0 would be scaled beyond float32"]);
    expect(r.plan.tensors).to.deep.equal([]);
  });

  it('a scale float32 cannot hold (w1 ±3e38, w2 1e-44 denormal: s ≈ 1.7e41): not equalized, named', async () => {
    const r = await plan({ w1: (i) => (i % 2 ? 3e38 : -3e38), w2: () => 1e-44 });
    expect(r.sets).to.deep.equal([]);
    expect(reasons(r)[0]).to.match(
      /^c1 → c2 not equalized: the scale on channel 0 between c1 and c2 \(1\.\d+e\+41\) is beyond float32$/,
    );
    expect(r.plan.tensors).to.deep.equal([]);
  });

  it('a three-layer chain (ranges 3e38, 3e38, 1e-38) whose converged scale float32 cannot hold: not equalized, every value finite', async () => {
    const g = new CleGraph();
    let x = g.node('Conv', 'a', ['x', g.tensor('a.w', [2, 2, 1, 1], () => 3e38)]);
    x = g.node('Conv', 'b', [g.node('Relu', 'r1', [x]), g.tensor('b.w', [2, 2, 1, 1], () => 3e38)]);
    g.node('Conv', 'c', [g.node('Relu', 'r2', [x]), g.tensor('c.w', [2, 2, 1, 1], () => 1e-38)]);
    const r = await planCle(g.model(), { biasAbsorption: false });
    expectAllFinite(r);
    expect(r.sets).to.deep.equal([]);
    expect(reasons(r)).to.deep.equal([
      'a → b → c not equalized: the scale on channel 0 between b and c (9.65e+50) is beyond float32',
    ]);
  });

  it('weights already NaN or ±Inf are left as they are, and the skip says so', async () => {
    const r = await plan({ w1: (i) => (i === 5 ? NaN : i === 7 ? Infinity : 0.5) });
    expect(r.sets).to.deep.equal([]);
    expect(reasons(r)).to.deep.equal([
      'c1 → c2 not equalized: c1\'s weight "w1" already holds 2 NaN/±Inf values: left as it is',
    ]);
    expect(r.plan.tensors).to.deep.equal([]);
    const folded = await plan({ b1: (i) => (i === 0 ? -Infinity : 0), bn: {} });
    expect(folded.folded).to.deep.equal([]);
    expect(reasons(folded)[0]).to.equal(
      'bn not folded: c1\'s bias "b1" already holds 1 NaN/±Inf values: left as it is',
    );
  });

  it('high-bias absorption that would overflow the next bias (β 3e38 into four inputs of 1): not applied, named', async () => {
    const r = await plan(
      {
        w1: () => 1,
        w2: () => 1,
        b1: () => 0,
        bn: { scale: () => 1, bias: () => 3e38, mean: () => 0, var: () => 1, epsilon: 0 },
      },
      true,
    );
    expect(r.folded).to.have.length(1);
    expect(r.sets).to.have.length(1);
    expect(r.biasAbsorbed).to.deep.equal([]);
    expect(reasons(r)).to.include('high-bias absorption from c1 into c2 not applied: the biases would leave float32');
    expectAllFinite(r);
  });
});

describe('CLE: memory bounded by the weights, not by the channel counts a shape claims', () => {
  it('an empty weight [2^28, 0, 1, 1] (a 161-byte file) is declined by name, nothing sized by its channels', async () => {
    const g = new CleGraph();
    const x = g.node('Relu', 'relu', [g.node('Conv', 'c1', ['x', g.tensor('w1', [2 ** 28, 0, 1, 1])])]);
    g.node('Conv', 'c2', [x, g.tensor('w2', [0, 2 ** 28, 1, 1])]);
    const r = await planCle(g.model());
    expect(r.sets).to.deep.equal([]);
    expect(reasons(r)[0]).to.equal('c1\'s weight "w1" [268435456,0,1,1] has no elements');
  });

  it('a depthwise triplet of 8192 channels (C² = 2^26 ranges for 8192 weights): skipped with the reason; its BatchNorm still folds', async () => {
    const C = 8192;
    const g = new CleGraph();
    let x = g.node('Relu', 'r0', [g.node('Conv', 'c0', ['x', g.tensor('c0.w', [C, 1, 1, 1])])]);
    x = g.node('Relu', 'r1', [
      g.bn('bn', g.node('Conv', 'dw', [x, g.tensor('dw.w', [C, 1, 1, 1])], [attr.int('group', C)]), C),
    ]);
    g.node('Conv', 'c2', [x, g.tensor('c2.w', [1, C, 1, 1])]);
    const r = await planCle(g.model(), { biasAbsorption: false });
    expect(r.folded).to.deep.equal([{ batchNorm: 'bn', into: 'dw' }]);
    expect(r.sets).to.deep.equal([]);
    expect(reasons(r)).to.include(
      `c0 → dw → c2 not equalized: dw's [${C} × ${C}] range matrix would be larger than its ${C} weights and 16777216 entries`,
    );
    expectAllFinite(r);
  });
});

describe('CLE: the float32 bounds of a chain, on absmax matrices', () => {
  // Layer b sits between two scales: its weights are multiplied by s_in = 1e-20 and divided by s_out = 1e-20.
  const chain = (middle: number) =>
    ['a', 'b', 'c'].map((name, k) => ({
      name,
      matrix: { m: Float64Array.of(k === 1 ? middle : 1), cout: 1, cin: 1 },
      bias: new Float32Array(1),
    }));
  const scales = [Float64Array.of(1e-20), Float64Array.of(1e-20)];

  it('refuses a middle layer whose result fits but whose product with one factor (1e30 · 1e20) would not', () => {
    expect(chainScaleProblem(chain(1e30), scales)).to.equal(
      "b's weights from input 0 to output 0 (max |w| 1.00e+30) would be scaled beyond float32",
    );
  });

  it('accepts the same scales on a middle layer of 1e10', () => {
    expect(chainScaleProblem(chain(1e10), scales)).to.equal(undefined);
  });

  it("refuses factors whose product (1e-20 · 1e-20) float32 holds only as a denormal, losing the weight's precision", () => {
    expect(chainScaleProblem(chain(1e30), [Float64Array.of(1e-20), Float64Array.of(1e20)])).to.equal(
      "b's weights from input 0 to output 0 (max |w| 1.00e+30) would be scaled by a factor below float32's normal range",
    );
  });
});

describe('CLE on random Conv -> Relu -> Conv chains with magnitudes 1e-38…1e38 (fixed seed)', () => {
  it('writes only finite values and keeps the function of every chain it equalizes', async () => {
    const rand = seededRandom(20261203);
    const magnitude = () => 10 ** (76 * rand() - 38);
    let equalized = 0,
      refused = 0;
    for (let n = 0; n < 300; n++) {
      // Per-channel magnitudes: c1's output channels, c2's input channels, and the bias.
      const out1 = Array.from({ length: 3 }, magnitude),
        in2 = Array.from({ length: 3 }, magnitude),
        b1 = Array.from({ length: 3 }, magnitude);
      const g = new CleGraph(n + 1);
      let x = g.node('Conv', 'c1', [
        'x',
        g.tensor('w1', [3, 2, 3, 3], (i) => (2 * rand() - 1) * out1[Math.floor(i / 18)]!),
        g.tensor('b1', [3], (i) => (2 * rand() - 1) * b1[i]!),
      ]);
      x = g.node('Relu', 'relu', [x]);
      g.node('Conv', 'c2', [
        x,
        g.tensor('w2', [2, 3, 1, 1], (i) => (2 * rand() - 1) * in2[i % 3]!),
        g.tensor('b2', [2], () => 0),
      ]);
      const model = g.model();
      const r = await planCle(model, { biasAbsorption: false });
      expectAllFinite(r, `case ${n}: `);
      if (r.sets.length === 0) {
        refused++;
        expect(reasons(r)[0], `case ${n}`).to.match(/float32/);
        continue;
      }
      equalized++;
      const input = randomInput([1, 2, 4, 4], n);
      const [before, after] = [await run(model, input), await run(model, input, r.plan)];
      const [y0, y1] = [before.get('c2')!, after.get('c2')!];
      const { diff, absMax } = deviation(y0, y1);
      expect(diff, `case ${n}: max |y| ${absMax}`).to.be.at.most(1e-4 * absMax);
    }
    // Both outcomes happen, so the loop cannot pass by always refusing or by never meeting an extreme case.
    expect(equalized, 'chains equalized').to.be.greaterThan(150);
    expect(refused, 'chains refused').to.be.greaterThan(0);
  });
});
