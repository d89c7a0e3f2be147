// docs/elements.md's element API tables are generated from the elements' doc comments; keep them in step.
import { describe, it } from 'node:test';
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ELEMENT_API_DOC, withApiTables } from '../../scripts/api-docs.mjs';
import { ROOT } from '../support/node-paths.js';

describe(`element API tables in ${ELEMENT_API_DOC}`, () => {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'dist/custom-elements.json'), 'utf8'));
  const doc = readFileSync(join(ROOT, ELEMENT_API_DOC), 'utf8');

  it('document every element of the manifest', () => {
    const tags = manifest.modules
      .flatMap((m: { declarations?: { tagName?: string }[] }) => m.declarations ?? [])
      .map((d: { tagName?: string }) => d.tagName)
      .filter(Boolean);
    expect(tags).to.include.members([
      'weight-range-plot',
      'relative-range-plot',
      'layer-table',
      'model-source',
      'cle-compare',
      'quant-error-plot',
      'weight-histogram',
      'quant-plan',
      'model-compare',
      'compressibility-plot',
    ]);
    for (const tag of tags) expect(doc, tag).to.include(`### \`<${tag}>\``);
  });

  it('are what scripts/api-docs.mjs generates (run `npm run docs` after changing a doc comment)', () => {
    expect(withApiTables(doc, manifest)).to.equal(doc);
  });
});
