// The README's element API tables are generated from the elements' doc comments; keep them in step.
import { describe, it } from 'node:test';
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readmeWithApi } from '../../scripts/api-docs.mjs';
import { ROOT } from '../support/node-paths.js';

describe('README element API', () => {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'dist/custom-elements.json'), 'utf8'));
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

  it('documents every element of the manifest', () => {
    const tags = manifest.modules.flatMap((m: { declarations?: { tagName?: string }[] }) => m.declarations ?? [])
      .map((d: { tagName?: string }) => d.tagName).filter(Boolean);
    expect(tags).to.include.members(['weight-range-plot', 'relative-range-plot', 'layer-table', 'model-source', 'cle-compare', 'quant-error-plot', 'weight-histogram']);
    for (const tag of tags) expect(readme, tag).to.include(`### \`<${tag}>\``);
  });

  it('is what scripts/api-docs.mjs generates (run it after changing a doc comment)', () => {
    expect(readmeWithApi(readme, manifest)).to.equal(readme);
  });
});
