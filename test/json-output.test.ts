// `--json` written in pieces (src/cli/json-output.ts): the pieces join to exactly JSON.stringify's text.
import { describe, it } from 'node:test';
import { expect } from 'chai';
import { jsonPieces } from '../src/cli/json-output.js';

const pretty = (v: unknown) => JSON.stringify(v, null, 2) + '\n';

describe('jsonPieces', () => {
  it('joins to JSON.stringify(value, null, 2) for reports of every shape', () => {
    const cases: object[] = [
      {},
      { layers: [] },
      { file: 'a "quoted"\nname.onnx', layers: [{ name: 'x', values: [1, null, -0.5], nested: { a: [] } }], after: 3 },
      { skipped: undefined, layers: [undefined, { a: 1 }, [2, 3]], notes: ['a', 'b'], fn: () => 1 },
      { before: 'a', layers: 'not an array', more: { layers: [1, 2] } },
    ];
    for (const value of cases) expect([...jsonPieces(value, [['layers']])].join('')).to.equal(pretty(value));
    const nested = {
      file: 'f',
      layers: [1],
      compress: { error: 0.05, layers: [{ a: [1, 2] }, { b: null }], notes: [] },
    };
    expect([...jsonPieces(nested, [['layers'], ['compress', 'layers']])].join('')).to.equal(pretty(nested));
  });

  it('gives each element of the array its own piece', () => {
    const layers = Array.from({ length: 100 }, (_, i) => ({ i, text: 'x'.repeat(100) }));
    const pieces = [...jsonPieces({ file: 'f', layers, compress: { layers } }, [['layers'], ['compress', 'layers']])];
    expect(pieces.length).to.be.greaterThan(200);
    expect(Math.max(...pieces.map((p) => p.length))).to.be.below(300);
  });
});
