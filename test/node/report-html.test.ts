// `weightlens report`: one self-contained HTML file that renders every section from file:// in headless
// Chromium with the network off, and never asks for anything but itself.
import { describe, it, before, after } from 'node:test';
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import puppeteer, { type Browser } from 'puppeteer-core';
import { chromiumArgs, chromiumPath } from '../../scripts/chromium.mjs';
import { ROOT, realModel } from '../support/node-paths.js';

describe('weightlens report', () => {
  let dir: string, browser: Browser;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'weightlens-report-'));
    browser = await puppeteer.launch({ executablePath: chromiumPath(), headless: true, args: chromiumArgs });
  });
  after(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('opens from file:// offline and renders the table, range plots, relative ranges, quantization error and CLE', async () => {
    const out = join(dir, 'report.html');
    const r = spawnSync(
      process.execPath,
      [join(ROOT, 'bin/weightlens.js'), 'report', realModel('ch_ppocr_mobile_v2.0_cls_infer.onnx'), '-o', out],
      { encoding: 'utf8' },
    );
    expect(r.status, r.stderr).to.equal(0);
    const page = await browser.newPage();
    await page.setOfflineMode(true);
    const problems: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
    page.on('pageerror', (e) => problems.push(String(e)));
    page.on('request', (q) => requests.push(q.url()));
    await page.goto(pathToFileURL(out).href);
    await page.waitForFunction(
      () => ['cle', 'quant-cle'].every((id) => document.getElementById(id)?.shadowRoot?.querySelector('svg')),
      { timeout: 30_000 },
    );
    const sections = await page.evaluate(() =>
      Object.fromEntries(
        ['layers', 'ranges', 'relative', 'quant', 'cle', 'quant-cle'].map((id) => {
          const root = document.getElementById(id)?.shadowRoot;
          return [
            id,
            {
              svgs: root?.querySelectorAll('svg').length ?? 0,
              rows: root?.querySelectorAll('tbody tr').length ?? 0,
              alerts: root?.querySelectorAll('[role=alert]').length ?? 0,
            },
          ];
        }),
      ),
    );
    expect(problems).to.deep.equal([]);
    expect(
      requests.every((u) => u.startsWith('file:') || u.startsWith('data:') || u.startsWith('blob:')),
      requests.join(' '),
    ).to.equal(true);
    expect(sections.layers!.rows).to.equal(54);
    const hollow = await page.evaluate(
      () =>
        document.getElementById('quant-cle')!.shadowRoot!.querySelectorAll('[part~="before-per-tensor"] > *').length,
    );
    expect(hollow, 'figures before CLE drawn in the comparison').to.be.greaterThan(0);
    for (const id of ['ranges', 'relative', 'quant', 'cle', 'quant-cle']) {
      expect(sections[id]!.svgs, id).to.be.greaterThan(0);
      expect(sections[id]!.alerts, id).to.equal(0);
    }
  });

  it('names the model by its file name: the local path stays out of a file meant to be shared', async () => {
    const model = join(dir, 'private-folder', 'cls.onnx');
    mkdirSync(dirname(model));
    copyFileSync(realModel('ch_ppocr_mobile_v2.0_cls_infer.onnx'), model);
    const out = join(dir, 'named.html');
    const r = spawnSync(process.execPath, [join(ROOT, 'bin/weightlens.js'), 'report', model, '-o', out], {
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).to.equal(0);
    const html = readFileSync(out, 'utf8');
    expect(html).to.include('<title>weightlens report: cls.onnx</title>');
    expect(html).to.include('<h1>weightlens report: cls.onnx</h1>');
    expect(html).not.to.include('private-folder');
  });
});
