// <quant-plan>'s chart logic without the element: the front, the chosen plan, the uniform plans and the plan
// as changed, checked through the data each mark carries (Node and browser, no DOM).
import { describe, it } from 'node:test';
import { expect } from 'chai';
import type { PlanReport } from '../src/pipeline/plan-quantization.js';
import {
  QUANT_PLAN_MARKS,
  frontPoints,
  quantPlanPlot,
  quantPlanText,
  shortLabel,
  uniformPoints,
} from '../src/plot/quant-plan.js';

interface MarkLike {
  ariaDescription?: string;
  data?: unknown;
}

const mark = (options: { marks?: unknown[] }, name: string) =>
  (options.marks as MarkLike[]).find((m) => m.ariaDescription === name)!.data as unknown[];

const report: PlanReport = {
  budget: { bitsPerWeight: 4.5 },
  floatBytes: 4_000_000,
  front: [
    { bytes: 500_000, worstSqnr: 8 },
    { bytes: 600_000, worstSqnr: 14 },
    { bytes: 1_100_000, worstSqnr: 33 },
    { bytes: 4_000_000, worstSqnr: Infinity },
  ],
  chosen: { bytes: 600_000, worstSqnr: 14 },
  uniform: [
    { scheme: 'int8 symmetric per-channel', bytes: 1_050_000, worstSqnr: 30 },
    { scheme: 'int4 symmetric per-channel', bytes: 520_000, worstSqnr: 6 },
  ],
};

describe('plot: quantization plan front', () => {
  it('draws the finite front in MB and dB, the exact (all float) plan left out', () => {
    const options = quantPlanPlot(report);
    expect(mark(options, QUANT_PLAN_MARKS.front)).to.deep.equal([
      { mb: 0.5, sqnr: 8, label: '' },
      { mb: 0.6, sqnr: 14, label: '' },
      { mb: 1.1, sqnr: 33, label: '' },
    ]);
    expect(frontPoints(report)).to.have.length(3);
    expect(options.x.label).to.contain('MB');
    expect(options.y.label).to.contain('SQNR');
    // The x axis spans the uniform and chosen plans (the front's tail is clipped); the y axis holds them.
    expect(options.x.domain[1]).to.be.closeTo(1.05 * 1.1, 1e-9);
    expect(options.y.domain[0]).to.be.at.most(6);
    expect(options.y.domain[1]).to.be.at.least(30);
  });

  it('marks the chosen plan, labels the uniform plans smallest first, and draws the budget', () => {
    const options = quantPlanPlot(report, { budgetBytes: 700_000 });
    expect(mark(options, QUANT_PLAN_MARKS.chosen)).to.deep.equal([{ mb: 0.6, sqnr: 14, label: '' }]);
    expect(uniformPoints(report).map((p) => p.label)).to.deep.equal([
      'int4 symmetric per-channel',
      'int8 symmetric per-channel',
    ]);
    expect(mark(options, QUANT_PLAN_MARKS.uniform)).to.have.length(2);
    expect(mark(options, QUANT_PLAN_MARKS.uniformLabels)).to.have.length(2);
    expect(mark(options, QUANT_PLAN_MARKS.budget)).to.deep.equal([0.7]);
    expect(mark(options, QUANT_PLAN_MARKS.current)).to.deep.equal([]);
  });

  it('names the uniform plans no other beats first, and leaves out names that would overlap', () => {
    const crowded: PlanReport = {
      ...report,
      uniform: [
        { scheme: 'int4 symmetric per-channel', bytes: 520_000, worstSqnr: 16 },
        { scheme: 'int4 asymmetric per-channel', bytes: 530_000, worstSqnr: 16.1 },
        { scheme: 'int4 symmetric per-tensor', bytes: 520_000, worstSqnr: 2 },
        { scheme: 'int8 symmetric per-channel', bytes: 1_050_000, worstSqnr: 30 },
      ],
    };
    const labels = mark(quantPlanPlot(crowded), QUANT_PLAN_MARKS.uniformLabels) as { label: string }[];
    // The asymmetric per-channel plan's name would sit on the symmetric one's: left out.
    expect(labels.map((d) => d.label)).to.deep.equal([
      'int4 symmetric per-channel',
      'int8 symmetric per-channel',
      'int4 symmetric per-tensor',
    ]);
    expect(shortLabel('int4 asymmetric per-group 32')).to.equal('INT4 asym per-group 32');
  });

  it('draws the plan as changed by hand, and says so in the text', () => {
    const current = { bytes: 800_000, worstSqnr: 20 };
    const options = quantPlanPlot(report, { current });
    expect(mark(options, QUANT_PLAN_MARKS.current)).to.deep.equal([{ mb: 0.8, sqnr: 20, label: '' }]);
    const text = quantPlanText(report, 'm.onnx', current);
    expect(text.title).to.contain('m.onnx');
    expect(text.description).to.contain('Chosen for the budget: 0.60 MB, worst layer 14.0 dB');
    expect(text.description).to.contain('int8 symmetric per-channel 1.05 MB, 30.0 dB');
    expect(text.description).to.contain('The plan as changed: 0.80 MB, worst layer 20.0 dB');
  });
});
