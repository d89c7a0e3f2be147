// Every relative link in the repository's markdown (README.md, docs/, …) points at a file that exists,
// and every #anchor at a heading of that file: moving a section must not leave a dead link behind.
import { describe, it } from 'node:test';
import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { anchors, linkTargets, slug } from '../support/markdown-links.js';
import { ROOT } from '../support/node-paths.js';

const NOT_OURS = new Set(['node_modules', '.git', 'build', 'dist']);

function markdownFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (NOT_OURS.has(entry.name)) return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return markdownFiles(path);
    return entry.name.endsWith('.md') ? [path] : [];
  });
}

const isExternal = (target: string) => /^[a-z][a-z0-9+.-]*:/i.test(target);

describe('markdown links', () => {
  const files = markdownFiles(ROOT);

  it('finds the README and the docs', () => {
    const names = files.map((f) => relative(ROOT, f));
    expect(names).to.include.members([
      'README.md',
      'docs/elements.md',
      'docs/cli.md',
      'docs/api.md',
      'docs/definitions.md',
    ]);
  });

  it('reads links and anchors as GitHub does', () => {
    const sample = [
      '# Machine form (`--json`)',
      "## One layer's weight histogram",
      '## Will it survive INT8?',
      '### `<cle-compare>`',
      '## Notes',
      '## Notes',
      'See [the API](api.md#errors), ![a picture](demo.png "title") and `[code](not-a-link.md)`.',
      '```',
      '[also code](fenced.md)',
      '```',
      '[ref]: cli.md',
    ].join('\n');
    expect(linkTargets(sample)).to.deep.equal(['api.md#errors', 'demo.png', 'cli.md']);
    expect([...anchors(sample)]).to.deep.equal([
      'machine-form---json',
      'one-layers-weight-histogram',
      'will-it-survive-int8',
      'cle-compare',
      'notes',
      'notes-1',
    ]);
    expect(slug('Offline report (`weightlens report`)')).to.equal('offline-report-weightlens-report');
  });

  for (const file of files) {
    it(`${relative(ROOT, file)}: every relative link resolves`, () => {
      const broken: string[] = [];
      for (const target of linkTargets(readFileSync(file, 'utf8'))) {
        if (isExternal(target)) continue;
        const [path, anchor] = target.split('#') as [string, string | undefined];
        const resolved = path === '' ? file : join(dirname(file), decodeURI(path));
        if (!resolved.startsWith(ROOT) || !existsSync(resolved)) broken.push(`${target} (no such file)`);
        else if (
          anchor !== undefined &&
          (statSync(resolved).isDirectory() || !anchors(readFileSync(resolved, 'utf8')).has(anchor))
        ) {
          broken.push(`${target} (no such heading)`);
        }
      }
      expect(broken, broken.join(', ')).to.deep.equal([]);
    });
  }
});
