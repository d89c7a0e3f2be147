// `npm run bench`: bundles bench/bench-page.ts, serves it on 127.0.0.1, runs it in Debian's headless
// Chromium and prints the page's JSON lines on stdout (one per benchmark).
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import puppeteer from 'puppeteer-core';
import { chromiumArgs, chromiumPath } from './chromium.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
await esbuild.build({
  entryPoints: [join(root, 'bench/bench-page.ts')],
  outfile: join(root, 'build/bench/bench.js'),
  bundle: true,
  format: 'esm',
  target: 'es2022',
  platform: 'browser',
  logLevel: 'warning',
});
const page = `<!doctype html><meta charset="utf-8"><title>weightlens bench</title><script type="module" src="bench.js"></script>`;
const server = createServer(async (req, res) => {
  if (req.url === '/bench.js') {
    res.setHeader('content-type', 'text/javascript');
    res.end(await readFile(join(root, 'build/bench/bench.js')));
  } else {
    res.setHeader('content-type', 'text/html');
    res.end(page);
  }
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const browser = await puppeteer.launch({ executablePath: chromiumPath(), headless: true, args: chromiumArgs });
let failed = false;
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
  await tab.goto(`http://127.0.0.1:${server.address().port}/`);
  await done;
} finally {
  await browser.close();
  server.close();
}
process.exitCode = failed ? 1 : 0;
