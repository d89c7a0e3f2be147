// Takes the README's pictures of the demo (docs/demo.png, docs/demo-histogram.png, docs/demo-cle.png,
// docs/demo-quant-cle.png, docs/demo-quant-plan.png, docs/demo-compressibility.png) in Debian's headless Chromium:
// `npm run build && node scripts/screenshot-demo.mjs`.
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer from 'puppeteer-core';
import { chromiumArgs, chromiumPath } from './chromium.mjs';
import { startDemoServer } from './demo-server.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { server, url } = await startDemoServer(0, '127.0.0.1');
const browser = await puppeteer.launch({ executablePath: chromiumPath(), headless: true, args: chromiumArgs });
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1400, height: 1250, deviceScaleFactor: 1 });
  await page.evaluateOnNewDocument(() => {
    window.loaded = 0;
    document.addEventListener('wl-load', () => window.loaded++);
    document.addEventListener('wl-cle-applied', () => window.loaded++);
  });
  await page.goto(url);
  await page.waitForFunction(() => window.loaded >= 5, { timeout: 60_000 }); // every element has its model
  // Nothing selected: the elements show the worst layer (lowest INT8 per-tensor SQNR), as a user first sees them.
  await new Promise((r) => setTimeout(r, 500)); // let resize-driven re-renders settle
  mkdirSync(join(root, 'docs'), { recursive: true });
  await page.screenshot({ path: join(root, 'docs/demo.png') });
  await page.evaluate(() => document.querySelector('weight-histogram').scrollIntoView());
  await page.screenshot({ path: join(root, 'docs/demo-histogram.png') });
  await page.evaluate(() => document.querySelector('cle-compare').scrollIntoView());
  await page.screenshot({ path: join(root, 'docs/demo-cle.png') });
  await page.evaluate(() => document.querySelector('quant-error-plot[cle]').scrollIntoView());
  await page.screenshot({ path: join(root, 'docs/demo-quant-cle.png') });
  // <quant-plan> plans in the Worker once its model is in: wait for its front to be drawn.
  await page.waitForFunction(() => document.querySelector('quant-plan')?.planned, { timeout: 60_000 });
  await page.evaluate(() => document.querySelector('quant-plan').scrollIntoView());
  await new Promise((r) => setTimeout(r, 500));
  await page.screenshot({ path: join(root, 'docs/demo-quant-plan.png') });
  // <compressibility-plot> measures in the Worker once its model is in.
  await page.waitForFunction(() => document.querySelector('compressibility-plot')?.compression, { timeout: 120_000 });
  await page.evaluate(() => document.querySelector('compressibility-plot').scrollIntoView());
  await new Promise((r) => setTimeout(r, 500));
  await page.screenshot({ path: join(root, 'docs/demo-compressibility.png') });
  console.log(
    'wrote docs/demo.png, docs/demo-histogram.png, docs/demo-cle.png, docs/demo-quant-cle.png, docs/demo-quant-plan.png, docs/demo-compressibility.png',
  );
} finally {
  await browser.close();
  server.close();
}
