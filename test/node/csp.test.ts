// The CDN bundle must work from another origin under a strict Content-Security-Policy:
//   script-src <cdn origin> 'wasm-unsafe-eval'; worker-src blob:
// A page on one local origin loads dist/cdn/weightlens.js from a second one and renders a layer table
// and a range plot of a real model, with no CSP violation (Wasm compiled, Worker started from blob:).
import { describe, it, before, after } from 'node:test';
import { expect } from 'chai';
import { createServer, type Server } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import puppeteer, { type Browser } from 'puppeteer-core';
import { ROOT, realModel } from '../support/node-paths.js';
import { chromiumArgs, chromiumPath } from '../../scripts/chromium.mjs';

function listen(server: Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
  );
}

describe('CDN bundle under a strict CSP, from another origin', () => {
  let page: Server, cdn: Server, browser: Browser;
  let pageOrigin = '',
    cdnOrigin = '';

  before(async () => {
    const bundle = readFileSync(join(ROOT, 'dist/cdn/weightlens.js'));
    const model = readFileSync(realModel('ch_ppocr_mobile_v2.0_cls_infer.onnx'));
    cdn = createServer((req, res) => {
      if (req.url !== '/weightlens.js') return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': 'text/javascript', 'access-control-allow-origin': '*' }).end(bundle);
    });
    cdnOrigin = `http://127.0.0.1:${await listen(cdn)}`;
    page = createServer((req, res) => {
      if (req.url === '/favicon.ico') return void res.writeHead(204).end();
      if (req.url === '/model.onnx')
        return void res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(model);
      if (req.url !== '/') return void res.writeHead(404).end();
      res.writeHead(200, {
        'content-type': 'text/html',
        'content-security-policy': `script-src ${cdnOrigin} 'wasm-unsafe-eval'; worker-src blob:`,
      }).end(`<!doctype html><html lang="en"><title>CSP test</title>
        <script type="module" src="${cdnOrigin}/weightlens.js"></script>
        <layer-table src="model.onnx"></layer-table>
        <weight-range-plot src="model.onnx" layer="p2o.Conv.1"></weight-range-plot>`);
    });
    pageOrigin = `http://localhost:${await listen(page)}`;
    browser = await puppeteer.launch({ executablePath: chromiumPath(), headless: true, args: chromiumArgs });
  });

  after(async () => {
    await browser?.close();
    page?.close();
    cdn?.close();
  });

  it('renders the table and the plot with no CSP violation', async () => {
    const tab = await browser.newPage();
    const problems: string[] = [];
    tab.on('console', (m) => {
      if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) problems.push(m.text());
    });
    tab.on('pageerror', (e) => problems.push(String(e)));
    await tab.evaluateOnNewDocument(() => {
      const w = window as unknown as { violations: string[]; loads: number };
      w.violations = [];
      w.loads = 0;
      document.addEventListener('securitypolicyviolation', (e) =>
        w.violations.push(`${e.violatedDirective} ${e.blockedURI}`),
      );
      document.addEventListener('wl-load', () => w.loads++);
    });
    await tab.goto(`${pageOrigin}/`);
    await tab.waitForFunction(() => (window as unknown as { loads: number }).loads >= 2, { timeout: 30_000 });
    const result = await tab.evaluate(() => ({
      violations: (window as unknown as { violations: string[] }).violations,
      rows: document.querySelector('layer-table')?.shadowRoot?.querySelectorAll('tbody tr').length ?? 0,
      svg: !!document.querySelector('weight-range-plot')?.shadowRoot?.querySelector('svg'),
    }));
    expect(result.violations).to.deep.equal([]);
    expect(problems, problems.join('\n')).to.deep.equal([]);
    expect(result.rows).to.equal(54);
    expect(result.svg).to.equal(true);
    expect(tab.workers().length, 'the analysis ran in a blob: Worker, not the main-thread fallback').to.be.greaterThan(
      0,
    );
  });
});
