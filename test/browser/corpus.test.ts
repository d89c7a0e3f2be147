// Chromium: the corpus entries marked `browser` loaded through <model-source> into a <layer-table>, as a user
// drops them on a page. Each ends ready or in the error state with a wl-error whose code is one the entry
// accepts and whose message names the file; a second model on the same page is unaffected, and the same
// <model-source> loads a valid model afterwards.
import { describe, it, after } from 'node:test';
import { expect } from 'chai';
import '../../src/elements.js';
import { CORPUS } from '../corpus/entries.js';
import { ElementHarness, waitFor } from '../harness/element-harness.js';

const entries = CORPUS.filter((e) => e.browser);
const valid = CORPUS.find((e) => e.name === 'conv-relu-conv-valid.onnx')!;

const file = (name: string, bytes: Uint8Array) => new File([new Uint8Array(bytes)], name);

describe('hostile files in the elements', () => {
  after(() => ElementHarness.cleanup());

  it('the subset covers errors and results', () => {
    expect(entries.length).to.be.at.least(8);
    expect(entries.some((e) => e.stats[0] === 'ok') && entries.some((e) => e.stats[0] !== 'ok')).to.equal(true);
  });

  for (const entry of entries) {
    it(`${entry.name}: ${entry.tests} -> ${entry.stats.join(' or ')}`, async () => {
      const bystander = ElementHarness.mount('model-source', { id: `bystander-${entry.name}` });
      const bystanderTable = ElementHarness.mount('layer-table', { attributes: { model: `bystander-${entry.name}` } });
      void bystander.element.handle.load({ kind: 'files', files: [file('bystander.onnx', valid.bytes())] });
      const source = ElementHarness.mount('model-source', { id: `source-${entry.name}` });
      const table = ElementHarness.mount('layer-table', { attributes: { model: `source-${entry.name}` } });
      await table.settled();

      const failed = table.nextEvent('wl-error');
      void source.element.handle.load({ kind: 'files', files: [file(entry.name, entry.bytes())] });
      const status = await waitFor(
        () => (table.element.status === 'ready' || table.element.status === 'error') && table.element.status,
        `${entry.name} settled`,
      );
      if (status === 'error') {
        const { error } = (await failed).detail;
        expect(entry.stats, `${error.code}: ${error.message}`).to.include(error.code);
        expect(error.message).to.contain(entry.name);
        await table.ready('error'); // rendered
        await source.ready('error');
        expect(source.alert()).to.contain(entry.name);
        expect(table.alert(), 'the source alone shows the error').to.equal(null);
        expect(table.statusText()).to.contain(`#source-${entry.name}`);
        if (entry.mentions) expect(error.message).to.match(entry.mentions);
      } else {
        expect(entry.stats, 'a result').to.include('ok');
      }

      await bystanderTable.ready();
      expect((await bystanderTable.tableRows()).length, 'the other model on the page').to.equal(2);
      void source.element.handle.load({ kind: 'files', files: [file('valid.onnx', valid.bytes())] });
      await waitFor(() => table.element.status !== 'error', 'the reload to start');
      await table.ready();
      expect((await table.tableRows()).length, 'the same source recovers').to.equal(2);
      ElementHarness.cleanup();
    });
  }
});
