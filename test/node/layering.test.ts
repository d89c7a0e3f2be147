// The layer order written in ARCHITECTURE.md, enforced from the import graph of src/: a folder imports
// only from its own layer and the layers below it.
import { describe, it } from 'node:test';
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { ROOT } from '../support/node-paths.js';

const SRC = join(ROOT, 'src');

/** ARCHITECTURE.md's "## Layers" list: entry (`onnx/`, `index.ts`) -> its layer, lowest 0. */
function layerOrder(markdown: string): Map<string, number> {
  const section = markdown.split(/^## Layers$/m)[1]?.split(/^## /m)[0] ?? '';
  const order = new Map<string, number>();
  for (const [i, line] of section
    .split('\n')
    .filter((l) => /^\d+\. /.test(l))
    .entries()) {
    for (const [, entry] of line.matchAll(/`([^`]+)`/g)) order.set(entry!, i);
  }
  return order;
}

/** Every module a file names: static imports and re-exports (type-only too), side-effect and dynamic imports. */
function importedSpecifiers(source: string): string[] {
  const patterns = [
    /\b(?:import|export)\s[^'";]*?\sfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  return patterns.flatMap((p) => [...source.matchAll(p)].map((m) => m[1]!));
}

/** The list entry a path under src/ belongs to: its first folder (`onnx/`) or, at the top, the .ts file itself. */
const entryOf = (path: string) => {
  const [first, ...rest] = relative(SRC, path).split(sep);
  return rest.length ? `${first}/` : first!.replace(/\.js$/, '.ts');
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.generated.ts') && !f.endsWith('.test.ts'))
    .map((f) => join(dir, f));
}

/** "src/a/x.ts -> src/b/y.js: why" for each import that breaks the order. */
function violations(order: Map<string, number>, files: { path: string; source: string }[]): string[] {
  const found: string[] = [];
  for (const { path, source } of files) {
    const from = entryOf(path);
    const fromLayer = order.get(from);
    for (const spec of importedSpecifiers(source)) {
      if (!spec.startsWith('.')) continue; // packages: lit, Plot, node:*
      const target = resolve(dirname(path), spec);
      const to = entryOf(target);
      const toLayer = order.get(to);
      const where = `${relative(ROOT, path)} -> ${spec}`;
      if (relative(SRC, target).startsWith('..')) found.push(`${where}: outside src/`);
      else if (fromLayer === undefined) found.push(`${where}: ${from} is not in ARCHITECTURE.md's list`);
      else if (toLayer === undefined) found.push(`${where}: ${to} is not in ARCHITECTURE.md's list`);
      else if (toLayer > fromLayer)
        found.push(`${where}: ${from} (layer ${fromLayer + 1}) imports ${to} (layer ${toLayer + 1})`);
    }
  }
  return found;
}

describe('layering (ARCHITECTURE.md)', () => {
  const order = layerOrder(readFileSync(join(ROOT, 'ARCHITECTURE.md'), 'utf8'));
  const files = sourceFiles(SRC).map((path) => ({ path, source: readFileSync(path, 'utf8') }));

  it('lists every folder and top-level file of src/', () => {
    expect(order.size).to.be.greaterThan(10);
    expect([...new Set(files.map((f) => entryOf(f.path)))].filter((e) => !order.has(e))).to.deep.equal([]);
  });

  it('no import goes from a lower layer to a higher one', () => {
    expect(violations(order, files)).to.deep.equal([]);
  });

  it('catches upward imports of every kind, and folders missing from the list', () => {
    const at = (path: string, source: string) => ({ path: join(SRC, path), source });
    const found = violations(order, [
      at('onnx/a.ts', "import type { X } from '../binding/model-handle.js';"),
      at('report/b.ts', "export { y } from '../pipeline/compute-stats.js';"),
      at('kernels/c.ts', "const m = await import('../worker/client.js');"),
      at('events/d.ts', "type T = import('../components/base-element.js').WeightlensElement;"),
      at('text/e.ts', "import '../elements.js';"),
      at('elsewhere/f.ts', "import { z } from '../errors.js';"),
      at('cli/g.ts', "import { ok } from '../onnx/model.js';\nimport { alsoOk } from './table.js';"),
    ]);
    expect(found.map((v) => v.split(' -> ')[0])).to.deep.equal([
      'src/onnx/a.ts',
      'src/report/b.ts',
      'src/kernels/c.ts',
      'src/events/d.ts',
      'src/text/e.ts',
      'src/elsewhere/f.ts',
    ]);
  });
});
