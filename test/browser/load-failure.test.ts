// Every element that shows a model's results says, as an alert naming the file, that the model failed to
// load: the same path (ModelViewElement's status) for each, so one test covers them all.
import { describe, it, afterEach } from 'node:test';
import { expect } from 'chai';
import '../../src/elements.js';
import { ElementHarness } from '../harness/element-harness.js';

const ELEMENTS = [
  'layer-table',
  'weight-range-plot',
  'relative-range-plot',
  'weight-histogram',
  'quant-error-plot',
] as const;

describe('a model that fails to load', () => {
  afterEach(() => ElementHarness.cleanup());

  for (const tag of ELEMENTS) {
    it(`<${tag}> shows the failure as an alert naming the file`, async () => {
      const h = await ElementHarness.mount(tag, { attributes: { src: '/no/such/model.onnx' } }).ready('error');
      expect(h.alert()).to.contain('model.onnx');
    });
  }
});
