// The data-free planner (quant/planner.ts) on random layers: the plan fits its budget, its worst layer SQNR is
// at least that of every uniform plan no larger, an SQNR floor is met by every layer at the least size, and
// the front rises in both size and worst SQNR.
import { describe, it } from 'node:test';
import { expect } from 'chai';
import { checkPlan, choiceFor, withMethod } from '../src/quant/plan.js';
import { planWithin, uniformPoint, type Candidate, type PlannedLayer } from '../src/quant/planner.js';
import type { QuantScheme } from '../src/quant/scheme.js';
import { seededRandom } from './support/random.js';

const SCHEMES: QuantScheme[] = [
  { bits: 8, symmetric: true, granularity: 'tensor' },
  { bits: 8, symmetric: true, granularity: 'channel' },
  { bits: 4, symmetric: true, granularity: 'channel' },
  { bits: 4, symmetric: false, granularity: 'group', block: 32 },
];

/** Layers of random sizes whose schemes' SQNR falls with their bits, plus noise (some layers lack a scheme). */
function randomLayers(seed: number): PlannedLayer[] {
  const rand = seededRandom(seed);
  return Array.from({ length: 3 + Math.floor(rand() * 20) }, (_, i) => {
    const weights = 64 + Math.floor(rand() * 5000);
    const candidates: Candidate[] = [{ choice: 'float', bits: weights * 32, sqnr: Infinity }];
    for (const s of SCHEMES) {
      if (rand() < 0.15) continue;
      const params = s.granularity === 'tensor' ? 32 : s.granularity === 'channel' ? 32 * 16 : (weights / 32) * 36;
      const base = s.bits === 8 ? 35 : 12;
      candidates.push({
        choice: s,
        bits: weights * s.bits + params,
        sqnr: base + 15 * rand() + (s.granularity === 'tensor' ? -5 : 0),
      });
    }
    return { name: `layer${i}`, weights, candidates };
  });
}

const bitsOf = (layers: readonly PlannedLayer[], plan: Record<string, unknown>) =>
  layers.reduce((n, l) => n + l.candidates.find((c) => c.choice === plan[l.name])!.bits, 0);

describe('planWithin', () => {
  for (let seed = 1; seed <= 40; seed++) {
    it(`seed ${seed}: fits the budget and beats every uniform plan no larger`, () => {
      const layers = randomLayers(seed);
      const rand = seededRandom(seed * 7);
      const bitsPerWeight = 4 + rand() * 6;
      const result = planWithin(layers, { bitsPerWeight });
      const budgetBytes = (bitsPerWeight * layers.reduce((n, l) => n + l.weights, 0)) / 8;
      const plan = result.plan.layers!;
      expect(bitsOf(layers, plan) / 8).to.equal(result.chosen.bytes);
      const smallest = result.front[0]!.bytes;
      if (smallest <= budgetBytes) expect(result.chosen.bytes).to.be.at.most(budgetBytes);
      for (const s of SCHEMES) {
        const uniform = uniformPoint(layers, (c) => c.choice === s);
        if (uniform.bytes <= budgetBytes) expect(result.chosen.worstSqnr).to.be.at.least(uniform.worstSqnr);
      }
      for (let i = 1; i < result.front.length; i++) {
        expect(result.front[i]!.bytes).to.be.at.least(result.front[i - 1]!.bytes);
        expect(result.front[i]!.worstSqnr).to.be.above(result.front[i - 1]!.worstSqnr);
      }
    });
  }

  it('an SQNR floor: every layer clears it, each with its smallest candidate that does', () => {
    const layers = randomLayers(99);
    const result = planWithin(layers, { sqnrFloor: 30 });
    for (const l of layers) {
      const picked = l.candidates.find((c) => c.choice === result.plan.layers![l.name])!;
      expect(picked.sqnr).to.be.at.least(30);
      const smaller = l.candidates.filter((c) => c.sqnr >= 30 && c.bits < picked.bits);
      expect(smaller, l.name).to.deep.equal([]);
    }
  });

  it('a budget nothing fits gives the smallest plan there is; a huge one keeps every layer exact', () => {
    const layers = randomLayers(5);
    const tiny = planWithin(layers, { bytes: 1 });
    expect(tiny.chosen).to.deep.equal(tiny.front[0]);
    const huge = planWithin(layers, { bitsPerWeight: 32 });
    expect(huge.chosen.worstSqnr).to.equal(Infinity);
  });
});

describe('checkPlan', () => {
  it('a layer named "__proto__" is a layer, not the prototype', () => {
    const plan = checkPlan(
      JSON.parse(
        '{"default": "float", "layers": {"__proto__": {"bits": 8, "symmetric": true, "granularity": "tensor"}}}',
      ),
      'p.json',
    );
    expect(choiceFor(plan, '__proto__')).to.deep.equal({ bits: 8, symmetric: true, granularity: 'tensor' });
    expect(choiceFor(plan, 'other')).to.equal('float');
    expect(JSON.parse(JSON.stringify(plan)).layers).to.have.property('__proto__');
  });
});

describe('withMethod', () => {
  const asymGroup: QuantScheme = { bits: 4, symmetric: false, granularity: 'group', block: 32 };
  const channel: QuantScheme = { bits: 4, symmetric: true, granularity: 'channel', method: 'clip' };
  const json = (v: unknown) => JSON.stringify(v);
  // "__proto__" written as JSON text: an object literal would set the prototype instead.
  const plan = checkPlan(
    JSON.parse(
      `{"default": ${json(channel)}, "layers": {"a": ${json(asymGroup)}, "b": "float", "__proto__": ${json(channel)}}}`,
    ),
    'p.json',
  );

  it('clip applies to every scheme; hqq to asymmetric per-group only; min-max drops the method', () => {
    const clip = withMethod(plan, 'clip');
    expect(clip.default).to.deep.equal(channel);
    expect(['a', 'b', '__proto__'].map((name) => choiceFor(clip, name))).to.deep.equal([
      { ...asymGroup, method: 'clip' },
      'float',
      channel,
    ]);
    const hqq = withMethod(plan, 'hqq');
    expect(choiceFor(hqq, 'a')).to.deep.equal({ ...asymGroup, method: 'hqq' });
    expect(hqq.default).to.deep.equal({ bits: 4, symmetric: true, granularity: 'channel' });
    expect(choiceFor(withMethod(plan, 'min-max'), '__proto__')).to.deep.equal({
      bits: 4,
      symmetric: true,
      granularity: 'channel',
    });
    // Every result is a plan `weightlens quantize --plan` accepts.
    for (const m of ['min-max', 'clip', 'hqq'] as const)
      expect(checkPlan(JSON.parse(JSON.stringify(withMethod(plan, m))), 'again.json')).to.deep.equal(
        withMethod(plan, m),
      );
  });
});
