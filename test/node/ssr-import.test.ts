// Static-site builds and SSR import the package in Node: that must not throw or touch a DOM.
import { describe, it } from 'node:test';
import { expect } from 'chai';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from '../support/node-paths.js';

const dist = (file: string) => pathToFileURL(join(ROOT, 'dist', file)).href;

describe('importing the package in Node', () => {
  it('weightlens (the library) imports and exposes the API', async () => {
    const lib = await import(dist('index.js'));
    expect(lib.computeStats).to.be.a('function');
    expect(lib.openModel).to.be.a('function');
  });

  it('weightlens/elements imports without a DOM and exposes the element classes', async () => {
    const elements = await import(dist('elements.js'));
    for (const name of [
      'WeightRangePlot',
      'RelativeRangePlot',
      'LayerTable',
      'ModelSource',
      'CleCompare',
      'QuantErrorPlot',
      'WeightHistogram',
      'ModelCompare',
      'CompressibilityPlot',
    ]) {
      expect(elements[name], name).to.be.a('function');
    }
    expect(typeof (globalThis as { document?: unknown }).document).to.equal('undefined');
  });
});
