// <weight-range-plot> of a 262,144-row vocabulary: the chart draws buckets of channels, not a mark per
// channel, yet the extremes stay drawn and the readout and zoom reach single channels.
import { describe, it, after } from 'node:test';
import { expect } from 'chai';
import { WeightRangePlot } from './weight-range-plot.js';
import { ElementHarness } from '../../../test/harness/element-harness.js';
import { layerOf, reportOf } from '../../../test/support/layer-fixture.js';
import { formatNumber } from '../../plot/format.js';

WeightRangePlot.define('weight-range-plot');

const ROWS = 262_144;
/** Channel 200,001 reaches 25.5, far above every other channel's largest weight (at most 0.56). */
const OUTLIER = 200_001;
const ranges = Array.from({ length: ROWS }, (_, c) => 1 + (c % 13) * 0.01 + (c === OUTLIER ? 50 : 0));
const layer = {
  ...layerOf(
    ranges.map((r) => -r / 2),
    ranges.map((r) => r / 2),
    'embed',
  ),
  op: 'Gather',
};
const report = reportOf([layer], 'vocab.onnx');

describe('<weight-range-plot> of a 262,144-channel layer', () => {
  after(() => ElementHarness.cleanup());

  it('draws a few thousand SVG elements at most, the outlier channel at its true max', async () => {
    const h = await ElementHarness.mount('weight-range-plot', { properties: { report } }).ready();
    expect(h.chart().querySelectorAll('*').length).to.be.lessThan(3000);
    expect(h.marks('ranges')).to.have.length(1); // one band
    const [rule] = h.marks('outlier-ranges') as SVGLineElement[];
    const y = h.chart().scale('y')!;
    const x = h.chart().scale('x')!;
    expect(Math.round(x.invert!(rule!.x1.baseVal.value) as number)).to.be.closeTo(OUTLIER, ROWS / 1000);
    const top = y.invert!(Math.min(rule!.y1.baseVal.value, rule!.y2.baseVal.value)) as number;
    expect(top).to.be.closeTo(Math.max(...ranges.slice(OUTLIER - 5, OUTLIER + 5)) / 2, 0.2); // about a pixel
  });

  it('reads single channels with the keyboard, and zoomed in draws each channel again', async () => {
    const h = await ElementHarness.mount('weight-range-plot', { properties: { report } }).ready();
    await h.focus('plot');
    await h.press('End');
    expect(h.readout()).to.contain(`Channel ${ROWS - 1}: min ${formatNumber(-ranges[ROWS - 1]! / 2)}`);
    h.element.zoom = [OUTLIER - 50, OUTLIER + 49];
    await h.settled();
    expect([...h.marks('ranges'), ...h.marks('outlier-ranges')]).to.have.length(100);
    await h.press('Home');
    expect(h.readout()).to.contain(`Channel ${OUTLIER - 50}:`);
    ElementHarness.cleanup();
  });
});
