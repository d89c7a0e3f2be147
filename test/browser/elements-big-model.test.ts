// A page with a <model-source>, a <layer-table>, both plots and a <weight-histogram> (its histogram
// computed in the Worker) bound to it: a ~100 MB model loads and every element draws its part. How long
// the main thread is busy meanwhile is `npm run bench`'s elements-load line (bench/main-thread.ts), not
// an assertion here: a busy machine makes durations flaky.
import { describe, it } from 'node:test';
import { expect } from 'chai';
import { resnet50Bytes } from '../fixtures/resnet50.js';
import { waitFor } from '../harness/element-harness.js';
import { mountElementsPage } from '../fixtures/elements-page.js';
import { worstFirst } from '../../src/report/worst-layers.js';

describe('a page of kit elements while a ~100 MB model loads', () => {
  it('every element draws the model', async () => {
    const { bytes } = resnet50Bytes();
    const { page, source, histogram } = await mountElementsPage();
    let loads = 0;
    page.addEventListener('wl-load', () => loads++);
    try {
      await source.handle.load({ kind: 'bytes', bytes: bytes.buffer as ArrayBuffer, name: 'resnet50.onnx' });
      await waitFor(() => histogram.status !== 'loading', 'the histogram', 120_000);
      expect(source.handle.status, source.handle.error?.message).to.equal('ready');
      expect(loads).to.equal(5);
      // With no layer selected the elements show the worst one.
      const worst = worstFirst(source.handle.report!.layers)[0]!;
      expect(histogram.histogram!.elements).to.equal(worst.shape.reduce((a, b) => a * b, 1));
      expect(page.querySelector('layer-table')!.rows.length).to.equal(54);
      for (const plot of ['weight-range-plot', 'relative-range-plot', 'weight-histogram']) {
        await waitFor(() => page.querySelector(plot)!.shadowRoot!.querySelector('svg'), `${plot} to draw`);
      }
    } finally {
      page.remove();
    }
  });
});
