// Issue 3's bar as a user meets it: a page with a <model-source>, a <layer-table>, both plots and a
// <weight-histogram> (its histogram computed in the Worker) bound to it stays responsive (no main-thread task over 50 ms) while a ~100 MB model loads and the elements draw.
import { describe, it } from 'node:test';
import { expect } from 'chai';
import { resnet50Bytes } from '../fixtures/resnet50.js';
import '../../src/elements.js';
import type { ModelSource } from '../../src/components/model-source/model-source.js';
import type { WeightHistogram } from '../../src/components/weight-histogram/weight-histogram.js';
import { waitFor } from '../harness/element-harness.js';
import { frames, longTasksDuring } from '../support/long-tasks.js';
import { worstFirst } from '../../src/report/worst-layers.js';

describe('a page of kit elements while a ~100 MB model loads', () => {
  it('has no long task from the start of the load until every element has drawn', async () => {
    const { bytes } = resnet50Bytes(); // made before observing: building it is the test's work
    const page = document.createElement('div');
    page.style.width = '1200px';
    page.innerHTML = `<model-source id="big"></model-source>
      <layer-table model="big"></layer-table>
      <weight-range-plot model="big"></weight-range-plot>
      <relative-range-plot model="big"></relative-range-plot>
      <weight-histogram model="big"></weight-histogram>`;
    document.body.append(page);
    await frames(10);
    const source = page.querySelector('model-source') as ModelSource;
    let loads = 0;
    page.addEventListener('wl-load', () => loads++);
    const tasks = await longTasksDuring(async () => {
      await source.handle.load({ kind: 'bytes', bytes: bytes.buffer as ArrayBuffer, name: 'resnet50.onnx' });
      await frames(5); // the elements draw after the results arrive
      const histogram = page.querySelector('weight-histogram') as WeightHistogram;
      await waitFor(() => histogram.status !== 'loading', 'the histogram');
      await frames(5);
    });
    try {
      expect(source.handle.status, source.handle.error?.message).to.equal('ready');
      expect(loads).to.equal(5);
      // With no layer selected the elements show the worst one.
      const worst = worstFirst(source.handle.report!.layers)[0]!;
      expect((page.querySelector('weight-histogram') as WeightHistogram).histogram!.elements).to.equal(worst.shape.reduce((a, b) => a * b, 1));
      expect(page.querySelector('layer-table')!.rows.length).to.equal(54);
      expect(tasks.map((t) => `${t.name} ${t.duration.toFixed(0)} ms`)).to.deep.equal([]);
    } finally {
      page.remove();
    }
  });
});
