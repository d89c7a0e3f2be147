// "Worst first" follows the INT8 symmetric per-tensor SQNR; the relative range ranks only without it.
import { describe, it } from 'node:test';
import { expect } from 'chai';
import type { LayerReport } from '../src/report/stats-report.js';
import type { QuantReport } from '../src/report/quant-error.js';
import { sqnrRank, worstFirst } from '../src/report/worst-layers.js';

const quantOf = (perTensor: number | null): QuantReport => {
  const f = { perTensor, perChannel: perTensor };
  return { int8: { symmetric: f, asymmetric: f }, int4: { symmetric: f, asymmetric: f } };
};
const layer = (name: string, maxRelativeRange: number | null, quant?: QuantReport | null) =>
  ({ name, maxRelativeRange, ...(quant === undefined ? {} : { quant }) }) as LayerReport;

describe('worst layers first', () => {
  it('orders by INT8 per-tensor SQNR, lowest first; exact after the numbers, NaN weights last; ties keep model order', () => {
    const layers = [
      layer('huge-range-but-fine', 1e34, quantOf(34.8)),
      layer('nan', null, null),
      layer('exact', 1, quantOf(null)),
      layer('hurts', 212, quantOf(13)),
      layer('tie', 5, quantOf(34.8)),
    ];
    expect(worstFirst(layers).map((l) => l.name)).to.deep.equal([
      'hurts',
      'huge-range-but-fine',
      'tie',
      'exact',
      'nan',
    ]);
  });

  it('falls back to the largest relative range when no layer has SQNR figures', () => {
    expect(worstFirst([layer('a', 2), layer('dead', null), layer('b', 30)]).map((l) => l.name)).to.deep.equal([
      'b',
      'a',
      'dead',
    ]);
  });

  it('ranks figures: numbers < exact < unavailable', () => {
    expect(sqnrRank(-3)).to.be.lessThan(sqnrRank(60));
    expect(sqnrRank(1e6)).to.be.lessThan(sqnrRank(null));
    expect(sqnrRank(null)).to.be.lessThan(sqnrRank(undefined));
  });
});
