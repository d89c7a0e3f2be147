// <quant-error-plot>'s chart logic without elements: results -> Plot options whose marks carry the
// figures drawn, checked in Node and in the browser with no DOM.
import { describe, it } from 'node:test';
import { expect } from 'chai';
import type { QuantReport } from '../src/report/quant-error.js';
import type { LayerReport } from '../src/report/stats-report.js';
import {
  QUANT_ERROR_MARKS,
  cleChangeText,
  formatDb,
  hasQuantFigures,
  quantErrorPlot,
  quantErrorRows,
  quantErrorText,
} from '../src/plot/index.js';
import { layerOf, reportOf } from './support/layer-fixture.js';

interface MarkLike {
  ariaDescription?: string;
  data?: unknown;
}

const mark = (options: { marks?: unknown[] }, name: string) =>
  (options.marks as MarkLike[]).find((m) => m.ariaDescription === name) as MarkLike & {
    data: { name: string; rank: number; perTensor: number; perChannel: number }[];
  };

/** Eight figures from a per-tensor/per-channel pair for INT8 symmetric; the others offset so a switch shows. */
function quantOf(pt: number | null, pc: number | null): QuantReport {
  const shift = (v: number | null, d: number) => (v === null ? null : v + d);
  return {
    int8: {
      symmetric: { perTensor: pt, perChannel: pc },
      asymmetric: { perTensor: shift(pt, 1), perChannel: shift(pc, 1) },
    },
    int4: {
      symmetric: { perTensor: shift(pt, -24), perChannel: shift(pc, -24) },
      asymmetric: { perTensor: shift(pt, -23), perChannel: shift(pc, -23) },
    },
  };
}

function layer(name: string, quant: QuantReport | null | undefined): LayerReport {
  return { ...layerOf([-1, -1], [1, 1], name), ...(quant === undefined ? {} : { quant }) };
}

// conv1 fine, conv2 worst per-tensor (outlier channel: per-channel far better), conv3 exact, conv4 middling, conv5 NaN weights.
const toy = reportOf([
  layer('conv1', quantOf(40, 42)),
  layer('conv2', quantOf(18, 39)),
  layer('conv3', quantOf(null, null)),
  layer('conv4', quantOf(30, 31)),
  layer('conv5', null),
]);

describe('plot: quantization error per layer', () => {
  it('sorts worst per-tensor SQNR first, exact then unavailable last; model order on request', () => {
    expect(quantErrorRows(toy).map((r) => r.name)).to.deep.equal(['conv2', 'conv4', 'conv1', 'conv3', 'conv5']);
    expect(quantErrorRows(toy, { sort: 'model' }).map((r) => r.name)).to.deep.equal([
      'conv1',
      'conv2',
      'conv3',
      'conv4',
      'conv5',
    ]);
    const [worst] = quantErrorRows(toy);
    expect(worst).to.include({
      index: 1,
      rank: 0,
      perTensor: 18,
      perChannel: 39,
      gap: 21,
      perTensorText: '18.00 dB',
      gapText: '+21.00 dB',
    });
  });

  it('draws one per-tensor and one per-channel mark per measured layer, with a gap rule between them', () => {
    const options = quantErrorPlot(toy, { width: 600 });
    const pt = mark(options, QUANT_ERROR_MARKS.perTensor).data;
    expect(pt.map((d) => [d.name, d.rank, d.perTensor])).to.deep.equal([
      ['conv2', 0, 18],
      ['conv4', 1, 30],
      ['conv1', 2, 40],
    ]);
    const pc = mark(options, QUANT_ERROR_MARKS.perChannel).data;
    expect(pc.map((d) => [d.name, d.perChannel])).to.deep.equal([
      ['conv2', 39],
      ['conv4', 31],
      ['conv1', 42],
    ]);
    expect(mark(options, QUANT_ERROR_MARKS.gap).data.map((d) => d.name)).to.deep.equal(['conv2', 'conv4', 'conv1']);
    expect(mark(options, QUANT_ERROR_MARKS.selected).data).to.deep.equal([]);
    expect(options.y!.domain).to.deep.equal([0, 1, 2, 3, 4]);
    expect(options.width).to.equal(600);
    const [lo, hi] = options.x!.domain as number[];
    expect(lo).to.equal(15); // no need for zero in a dot plot: a little below the lowest figure
    expect(hi).to.be.at.least(42);
  });

  it('switches bit width and scheme', () => {
    const int4 = mark(quantErrorPlot(toy, { bits: 4, sort: 'model' }), QUANT_ERROR_MARKS.perTensor).data;
    expect(int4.map((d) => d.perTensor)).to.deep.equal([16, -6, 6]);
    const asym = mark(quantErrorPlot(toy, { scheme: 'asymmetric', sort: 'model' }), QUANT_ERROR_MARKS.perChannel).data;
    expect(asym.map((d) => d.perChannel)).to.deep.equal([43, 40, 32]);
    // A negative SQNR widens the axis below 0.
    expect((quantErrorPlot(toy, { bits: 4 }).x!.domain as number[])[0]).to.be.below(-6);
  });

  it('highlights the selected layer', () => {
    const options = quantErrorPlot(toy, { selected: 'conv4' });
    expect(mark(options, QUANT_ERROR_MARKS.selected).data.map((d) => [d.name, d.rank])).to.deep.equal([['conv4', 1]]);
    expect(quantErrorText(toy, { selected: 'conv4' }).description).to.contain(
      'Selected: conv4, per-tensor 30.00 dB, per-channel 31.00 dB',
    );
  });

  it('describes the chart: worst layers, widest gap, exact and unavailable layers', () => {
    const { title, description } = quantErrorText(toy);
    expect(title).to.contain('INT8 symmetric').and.contain('toy.onnx');
    expect(description)
      .to.contain('5 weight layers, lowest per-tensor SQNR first')
      .and.contain('Lowest per-tensor: conv2 18.00 dB, conv4 30.00 dB, conv1 40.00 dB')
      .and.contain('Widest gap: conv2, per-channel +21.00 dB')
      .and.contain('Exact (no error, not drawn): conv3')
      .and.contain('No figures (non-finite weights): conv5');
    expect(formatDb(null)).to.equal('exact');
    expect(formatDb(-3.456)).to.equal('−3.46 dB');
  });

  it('tells a report made without --quant', () => {
    expect(hasQuantFigures(toy)).to.equal(true);
    expect(hasQuantFigures(reportOf([layer('a', quantOf(1, 2)), layer('b', undefined)]))).to.equal(false);
  });

  it('stays readable for hundreds of layers: one row each, compact rows', () => {
    const many = reportOf(
      Array.from({ length: 600 }, (_, i) => layer(`block.${i}.conv`, quantOf(20 + ((i * 37) % 25), 40 + (i % 5)))),
    );
    const options = quantErrorPlot(many, { width: 800 });
    expect(mark(options, QUANT_ERROR_MARKS.perTensor).data).to.have.length(600);
    expect(options.height).to.be.within(600 * 12, 600 * 14 + 60);
    const pts = mark(options, QUANT_ERROR_MARKS.perTensor).data.map((d) => d.perTensor);
    expect(pts).to.deep.equal([...pts].sort((a, b) => a - b));
  });

  describe('after CLE against before', () => {
    // CLE raised conv2 by 12 dB, lowered conv4 by 1 dB, left conv1; conv3 stays exact, conv5 non-finite.
    const before = reportOf([
      layer('conv1', quantOf(40, 42)),
      layer('conv2', quantOf(18, 39)),
      layer('conv3', quantOf(null, null)),
      layer('conv4', quantOf(31, 32)),
      layer('conv5', null),
    ]);
    const after = reportOf([
      layer('conv1', quantOf(40, 42)),
      layer('conv2', quantOf(30, 39.5)),
      layer('conv3', quantOf(null, null)),
      layer('conv4', quantOf(30, 31)),
      layer('conv5', null),
    ]);

    it('gives each row its figures before CLE, matched by name, and the per-tensor change', () => {
      const rows = quantErrorRows(after, { before });
      expect(rows.map((r) => r.name)).to.deep.equal(['conv2', 'conv4', 'conv1', 'conv3', 'conv5']); // worst after CLE first
      expect(rows[0]!.before).to.deep.include({
        perTensor: 18,
        perChannel: 39,
        perTensorText: '18.00 dB',
        changeText: '+12.00 dB',
      });
      expect(rows[1]!.before!.changeText).to.equal('−1.00 dB');
      expect(rows[3]!.before).to.deep.include({ perTensor: null, changeText: '—' });
      expect(rows[4]!.before).to.equal(null);
      expect(quantErrorRows(after).every((r) => r.before === null)).to.equal(true);
    });

    it('draws the figures before hollow, and an arrow only where per-tensor SQNR moved', () => {
      const options = quantErrorPlot(after, { width: 600, before });
      const hollow = mark(options, QUANT_ERROR_MARKS.beforePerTensor).data;
      expect(hollow.map((d) => d.name)).to.deep.equal(['conv2', 'conv4', 'conv1']);
      expect(mark(options, QUANT_ERROR_MARKS.beforePerChannel).data).to.have.length(3);
      expect(mark(options, QUANT_ERROR_MARKS.change).data.map((d) => d.name)).to.deep.equal(['conv2', 'conv4']);
      expect(
        quantErrorPlot(after, { width: 600 }).marks!.some(
          (m: unknown) =>
            (m as MarkLike).ariaDescription === QUANT_ERROR_MARKS.change &&
            ((m as MarkLike).data as unknown[]).length > 0,
        ),
      ).to.equal(false);
      // the x domain holds the figures before too
      const domain = (options.x as { domain: [number, number] }).domain;
      expect(domain[0]).to.be.at.most(18);
    });

    it('says how CLE moved per-tensor SQNR, in the text and the chart description', () => {
      const text = cleChangeText(quantErrorRows(after, { before }));
      expect(text)
        .to.contain('higher in 1 and lower in 1 of 3 layers')
        .and.contain('largest gain conv2, 18.00 dB → 30.00 dB');
      const { title, description } = quantErrorText(after, { before });
      expect(title).to.contain('after CLE against before');
      expect(description).to.contain(text);
    });
  });
});
