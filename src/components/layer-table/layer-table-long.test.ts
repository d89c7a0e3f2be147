// <layer-table> with thousands of layers (a transformer's): only the rows in view are in the DOM, the
// table still says how many there are, and the keyboard, sorting and selection reach every layer.
import { describe, it, after } from 'node:test';
import { expect } from 'chai';
import { LayerTable } from './layer-table.js';
import { ElementHarness, waitFor } from '../../../test/harness/element-harness.js';
import { layerOf, reportOf } from '../../../test/support/layer-fixture.js';
import { frames } from '../../../test/support/frames.js';

LayerTable.define('layer-table');

const LAYERS = 5000;
/** Layer i has a largest relative range of i + 2 (channel ranges 1 and i + 2). */
const report = reportOf(
  Array.from({ length: LAYERS }, (_, i) => layerOf([0, 0], [1, i + 2], `block.${i}.mlp`)),
  'long.onnx',
);

type Table = ElementHarness<LayerTable>;
const mount = async () =>
  (await ElementHarness.mount('layer-table', { width: 900, properties: { report } }).ready()) as Table;
const drawnNames = (h: Table) => h.parts('row').map((r) => r.dataset['layer']);
const rendered = async (h: Table) => {
  await frames(2);
  await h.element.updateComplete;
};

describe('<layer-table> with thousands of layers', () => {
  after(() => ElementHarness.cleanup());

  it('draws only the rows in view, says the whole count and keeps the scrollbar the whole height', async () => {
    const h = await mount();
    const rows = h.parts('row');
    expect(rows.length).to.be.greaterThan(0).and.lessThan(200);
    expect(h.part('table')!.getAttribute('aria-rowcount')).to.equal(String(LAYERS + 1));
    expect(rows[0]!.getAttribute('aria-rowindex')).to.equal('2');
    const scroller = h.part('scroller')!;
    const rowHeight = rows[0]!.getBoundingClientRect().height;
    expect(scroller.scrollHeight).to.be.closeTo(rowHeight * LAYERS, rowHeight * LAYERS * 0.05);

    scroller.scrollTop = scroller.scrollHeight;
    await waitFor(() => drawnNames(h).includes(`block.${LAYERS - 1}.mlp`), 'the last row to be drawn');
    const last = h.parts('row').at(-1)!;
    expect(last.getAttribute('aria-rowindex')).to.equal(String(LAYERS + 1));
    expect(h.parts('row').length).to.be.lessThan(200);
    const box = last.getBoundingClientRect();
    const view = scroller.getBoundingClientRect();
    expect(box.bottom)
      .to.be.at.most(view.bottom + 1)
      .and.greaterThan(view.top);
    ElementHarness.cleanup();
  });

  it('End, Home and the page keys move through every row, drawing and focusing the one reached', async () => {
    const h = await mount();
    await h.focus(h.parts('row')[0]!);
    await h.press('End');
    await rendered(h);
    expect((h.focused as HTMLElement).dataset['layer']).to.equal(`block.${LAYERS - 1}.mlp`);
    expect((h.focused as HTMLElement).getAttribute('aria-rowindex')).to.equal(String(LAYERS + 1));
    const event = h.nextEvent('wl-layer-select');
    await h.press('Enter');
    expect((await event).detail.layer).to.equal(`block.${LAYERS - 1}.mlp`);
    expect(h.part('selected-row')!.dataset['layer']).to.equal(`block.${LAYERS - 1}.mlp`);

    await h.press('Home');
    await rendered(h);
    expect((h.focused as HTMLElement).dataset['layer']).to.equal('block.0.mlp');
    await h.press('PageDown');
    await h.press('PageDown');
    await rendered(h);
    const paged = Number((h.focused as HTMLElement).getAttribute('aria-rowindex')) - 2;
    expect(paged).to.be.greaterThan(2);
    await h.press('ArrowDown');
    await rendered(h);
    expect((h.focused as HTMLElement).dataset['layer']).to.equal(`block.${paged + 1}.mlp`);
    expect(h.parts('row').filter((r) => r.tabIndex === 0)).to.have.length(1);
    ElementHarness.cleanup();
  });

  it('sorts and filters over every layer, not only those drawn', async () => {
    const h = await mount();
    h.element.sort = 'maxRelativeRange';
    h.element.sortDirection = 'descending';
    await rendered(h);
    expect(drawnNames(h)[0]).to.equal(`block.${LAYERS - 1}.mlp`);
    h.element.filter = 'block.42';
    await rendered(h);
    // block.42, block.420..429, block.4200..4299, in descending range order, drawn whole (111 rows).
    expect(drawnNames(h)).to.have.length(111);
    expect(drawnNames(h)[0]).to.equal('block.4299.mlp');
    expect(h.part('table')!.getAttribute('aria-rowcount')).to.equal('112');
    ElementHarness.cleanup();
  });

  it('has no accessibility violations scrolled to the middle', async () => {
    const h = await mount();
    h.part('scroller')!.scrollTop = h.part('scroller')!.scrollHeight / 2;
    await waitFor(() => !drawnNames(h).includes('block.0.mlp'), 'the rows to move');
    expect(await h.accessibilityViolations()).to.deep.equal([]);
    ElementHarness.cleanup();
  });
});
