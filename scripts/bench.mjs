// `npm run bench`: bundles bench/bench-page.ts, serves it on 127.0.0.1, runs it in Debian's headless
// Chromium and prints the page's JSON lines on stdout (one per benchmark); then the scaling lines
// (bench/scaling.ts, in Node, with bench/scaling-page.ts for Chromium). `npm run bench -- page` or
// `npm run bench -- scaling` runs only one of the two.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import puppeteer from 'puppeteer-core';
import { chromiumArgs, chromiumPath } from './chromium.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const parts = process.argv.slice(2);
const run = (part) => parts.length === 0 || parts.includes(part);
const bundle = { bundle: true, format: 'esm', target: 'es2022', logLevel: 'warning' };
await Promise.all([
  ...[
    ['bench-page', 'bench'],
    ['scaling-page', 'scaling-page'],
  ].map(([source, name]) =>
    esbuild.build({
      ...bundle,
      entryPoints: [join(root, `bench/${source}.ts`)],
      outfile: join(root, `build/bench/${name}.js`),
      platform: 'browser',
    }),
  ),
  esbuild.build({
    ...bundle,
    entryPoints: [join(root, 'bench/scaling.ts')],
    outfile: join(root, 'build/bench/scaling.mjs'),
    platform: 'node',
    packages: 'external',
  }),
]);
const html = (script) =>
  `<!doctype html><meta charset="utf-8"><title>weightlens bench</title><script type="module" src="${script}"></script>`;
const server = createServer(async (req, res) => {
  const script = /^\/(bench|scaling-page)\.js$/.exec(req.url ?? '');
  if (script) {
    res.setHeader('content-type', 'text/javascript');
    res.end(await readFile(join(root, `build/bench/${script[1]}.js`)));
  } else {
    res.setHeader('content-type', 'text/html');
    res.end(html(req.url === '/scaling.html' ? 'scaling-page.js' : 'bench.js'));
  }
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const origin = `http://127.0.0.1:${server.address().port}`;
let failed = false;
try {
  if (run('page')) await pageBenches();
  if (run('scaling')) {
    const { scalingBenches } = await import(pathToFileURL(join(root, 'build/bench/scaling.mjs')).href);
    await scalingBenches(`${origin}/scaling.html`);
  }
} finally {
  server.close();
}
process.exitCode = failed ? 1 : 0;

async function pageBenches() {
  const browser = await puppeteer.launch({ executablePath: chromiumPath(), headless: true, args: chromiumArgs });
  try {
    const tab = await browser.newPage();
    const done = new Promise((resolve, reject) => {
      tab.on('console', (msg) => {
        const text = msg.text();
        if (text === 'BENCH_DONE') resolve();
        else if (text.startsWith('{"bench"')) {
          console.log(text);
          if (text.startsWith('{"bench":"error"')) failed = true;
        }
      });
      tab.on('pageerror', (e) => reject(e));
      setTimeout(() => reject(new Error('benchmark page did not finish within 10 minutes')), 600_000).unref();
    });
    await tab.goto(`${origin}/`);
    await done;
  } finally {
    await browser.close();
  }
}
