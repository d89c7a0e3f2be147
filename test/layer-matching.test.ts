// Layer matching between two models (src/analysis/layer-matching.ts): the rules in order, what is left
// unmatched, renamed models, inserted and removed layers, and the greedy fallback for very long models.
import { describe, it } from 'node:test';
import { expect } from 'chai';
import { matchLayers, type LayerSignature } from '../src/analysis/layer-matching.js';
import { seededRandom } from './support/random.js';

const conv = (name: string, weight: string, shape: number[]): LayerSignature => ({
  names: [name],
  weights: [weight],
  op: 'Conv',
  shape,
});

/** A chain of `n` layers whose shapes repeat every 4 (as blocks of a network do). */
function network(n: number, prefix = ''): LayerSignature[] {
  return Array.from({ length: n }, (_, i) => conv(`${prefix}node${i}`, `${prefix}w${i}`, [16 << (i % 4), 8, 3, 3]));
}

const pairsOf = (before: LayerSignature[], after: LayerSignature[]) =>
  matchLayers(before, after).pairs.map((p) => [p.before, p.after, p.by]);

describe('matchLayers', () => {
  it('matches by weight name first, then node name, then position and shape', () => {
    const before = [conv('a', 'wa', [4, 2]), conv('b', 'wb', [4, 4]), conv('c', 'wc', [8, 4])];
    const after = [conv('a', 'wa', [4, 2]), conv('b', 'renamed', [4, 4]), conv('x', 'y', [8, 4])];
    expect(pairsOf(before, after)).to.deep.equal([
      [0, 0, 'weight name'],
      [1, 1, 'node name'],
      [2, 2, 'position and shape'],
    ]);
  });

  it('a model whose weights and nodes were all renamed is matched whole, in order', () => {
    const before = network(40);
    const result = matchLayers(before, network(40, 'renamed/'));
    expect(result.pairs.map((p) => [p.before, p.after])).to.deep.equal(before.map((_, i) => [i, i]));
    expect(result.pairs.every((p) => p.by === 'position and shape')).to.equal(true);
    expect(result.onlyBefore).to.deep.equal([]);
    expect(result.onlyAfter).to.deep.equal([]);
  });

  it('lists layers only one side has, and keeps the others aligned around them', () => {
    const before = [conv('a', 'wa', [4, 2]), conv('b', 'wb', [6, 4]), conv('c', 'wc', [8, 6])];
    const after = [conv('A', 'WA', [4, 2]), conv('N', 'WN', [5, 4]), conv('C', 'WC', [8, 6])];
    const result = matchLayers(before, after);
    expect(result.pairs.map((p) => [p.before, p.after])).to.deep.equal([
      [0, 0],
      [2, 2],
    ]);
    expect(result.onlyBefore).to.deep.equal([1]);
    expect(result.onlyAfter).to.deep.equal([1]);
  });

  it('a name two layers share, or a name on layers of different ops, matches nothing by name', () => {
    const before = [conv('dup', 'w', [4, 2]), conv('dup', 'w', [4, 4])];
    const after = [conv('dup', 'w', [4, 2]), conv('dup', 'w', [4, 4])];
    expect(pairsOf(before, after).map((p) => p[2])).to.deep.equal(['position and shape', 'position and shape']);
    const gemm: LayerSignature = { names: ['a'], weights: ['wa'], op: 'Gemm', shape: [4, 2] };
    expect(matchLayers([conv('a', 'wa', [4, 2])], [gemm]).pairs).to.deep.equal([]);
  });

  it('a layer matched by name may change shape (pruned); position never pairs different shapes', () => {
    expect(pairsOf([conv('a', 'wa', [8, 4])], [conv('a', 'wa', [6, 4])])).to.deep.equal([[0, 0, 'weight name']]);
    expect(pairsOf([conv('a', 'wa', [8, 4])], [conv('b', 'wb', [6, 4])])).to.deep.equal([]);
  });

  it('a quantizer’s names point back to the float ones (signatureOf gives the variants)', () => {
    const float = [conv('conv1', 'w1', [8, 4]), conv('conv2', 'w2', [8, 8])];
    const quantized: LayerSignature[] = [
      { names: ['conv1_quant', 'conv1'], weights: ['w1_quantized', 'w1'], op: 'Conv', shape: [8, 4] },
      { names: ['conv2_Q8', 'conv2'], weights: ['q2', 'w2_DequantizeLinear_Output', 'w2'], op: 'Conv', shape: [8, 8] },
    ];
    expect(pairsOf(float, quantized)).to.deep.equal([
      [0, 0, 'weight name'],
      [1, 1, 'weight name'],
    ]);
  });

  it('very long renamed models align greedily (no quadratic table) and still match in order', () => {
    const n = 5000; // 25M cells: above the LCS table's limit
    const result = matchLayers(network(n), network(n, 'x/'));
    expect(result.pairs).to.have.length(n);
    expect(result.pairs.every((p, i) => p.before === i && p.after === i)).to.equal(true);
  });

  it('random renames and removals: every pair joins layers of the same op and shape, in increasing order', () => {
    const rand = seededRandom(5);
    for (let trial = 0; trial < 50; trial++) {
      const before = network(5 + Math.floor(rand() * 60));
      const after = before
        .filter(() => rand() > 0.1)
        .map((s) => (rand() < 0.5 ? { ...s, weights: [`new/${s.weights[0]}`] } : s))
        .map((s) => (rand() < 0.5 ? { ...s, names: [`new/${s.names[0]}`] } : s));
      const { pairs, onlyBefore, onlyAfter } = matchLayers(before, after);
      expect(onlyAfter).to.deep.equal([]); // every kept layer finds its own, or an equal one
      expect(pairs.length + onlyBefore.length).to.equal(before.length);
      for (const p of pairs) {
        expect(after[p.after]!.shape).to.deep.equal(before[p.before]!.shape);
        if (p.by !== 'position and shape')
          expect(after[p.after]!.weights[0]!.endsWith(before[p.before]!.weights[0]!)).to.equal(true);
      }
    }
  });
});
