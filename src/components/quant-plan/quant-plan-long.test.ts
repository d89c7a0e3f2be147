// <quant-plan> on a model of 500 weight layers opened from files through a <model-source>: the planner and
// the table still work, only the rows in view are drawn, and a row scrolled into view can be changed by hand.
import { describe, it, after } from 'node:test';
import { expect } from 'chai';
import { QuantPlanElement } from './quant-plan.js';
import { ModelSource } from '../model-source/model-source.js';
import { ElementHarness, waitFor } from '../../../test/harness/element-harness.js';
import { chainModel, f32Tensor } from '../../../test/fixtures/onnx-bytes.js';
import { frames } from '../../../test/support/frames.js';

QuantPlanElement.define('quant-plan');
ModelSource.define('model-source');

const LAYERS = 500;
/** 500 MatMul layers of 16×16 weights, layer i's spread growing with i. */
const bytes = chainModel(
  Array.from({ length: LAYERS }, (_, i) => ({
    op: 'MatMul' as const,
    name: `block.${i}.proj`,
    weight: f32Tensor(
      `w${i}`,
      [16, 16],
      Array.from({ length: 256 }, (_, k) => Math.sin(k * 1.7 + i) * (1 + (k % 16) * (i % 7))),
    ),
  })),
);

describe('<quant-plan> with 500 layers', () => {
  after(() => ElementHarness.cleanup());

  it('plans, draws only the rows in view and changes a scrolled-to row by hand', async () => {
    const source = ElementHarness.mount('model-source', { id: 'long-source' }).element;
    await source.updateComplete;
    void source.handle.load({ kind: 'files', files: [new File([bytes], 'long.onnx')] });
    const h = (await ElementHarness.mount('quant-plan', {
      attributes: { model: 'long-source', bits: '5' },
    }).ready()) as ElementHarness<QuantPlanElement>;
    await waitFor(() => h.element.planned, 'the planner', 60000);
    await h.settled();
    expect(h.element.planned!.layers).to.have.length(LAYERS);
    expect(h.part('table')!.getAttribute('aria-rowcount')).to.equal(String(LAYERS + 1));
    const drawn = () => h.parts<HTMLSelectElement>('scheme');
    expect(drawn().length).to.be.greaterThan(0).and.lessThan(120);

    const scroller = h.part('scroller')!;
    scroller.scrollTop = scroller.scrollHeight;
    scroller.dispatchEvent(new Event('scroll'));
    await frames(2);
    await h.element.updateComplete;
    const last = await waitFor(
      () => drawn().find((s) => s.dataset.layer === `block.${LAYERS - 1}.proj`),
      'the last row',
    );
    last.value = 'int4 symmetric per-channel';
    last.dispatchEvent(new Event('change'));
    await h.settled();
    expect(JSON.parse(h.element.planJson()).layers[`block.${LAYERS - 1}.proj`]).to.deep.equal({
      bits: 4,
      symmetric: true,
      granularity: 'channel',
    });
  });
});
