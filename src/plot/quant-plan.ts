// <quant-plan>'s chart: the whole model's size against its worst layer's SQNR for every plan the data-free
// planner's thresholds give (the front), the plan it chose for the budget highlighted, each uniform plan (one
// scheme for every layer) as a labelled point, and the plan as it stands after changes by hand.
import * as Plot from '@observablehq/plot';
import type { PlanReport } from '../pipeline/plan-quantization.js';
import type { FrontPoint } from '../quant/planner.js';
import { plotSpec } from './plot-options.js';
import type { PlotSpec } from './plot-spec.js';
import { chartStyle, colors } from './theme.js';

/** One plan on the chart: its size in MB and its worst layer's SQNR in dB (finite: exact plans are not drawn). */
export interface PlanPoint {
  mb: number;
  sqnr: number;
  /** The uniform plan's scheme name, else ''. */
  label: string;
}

export interface QuantPlanOptions {
  width?: number;
  height?: number;
  /** The plan shown, when it is not the planner's (changed by hand, or loaded). */
  current?: FrontPoint | null;
  /** The budget's size in bytes (a budget in bits per weight or bytes), drawn as a rule. */
  budgetBytes?: number | null;
}

export const QUANT_PLAN_MARKS = {
  budget: 'size budget',
  front: 'size against worst-layer SQNR front',
  uniform: 'uniform plans',
  uniformLabels: 'uniform plan names',
  chosen: "planner's chosen plan",
  current: 'current plan',
} as const;

const toPoint = (p: FrontPoint, label = ''): PlanPoint | null =>
  Number.isFinite(p.worstSqnr) ? { mb: p.bytes / 1e6, sqnr: p.worstSqnr, label } : null;

const points = (list: readonly (PlanPoint | null)[]) => list.filter((p): p is PlanPoint => p !== null);

/** The front's points, smallest plan first (exact plans left out). */
export const frontPoints = (report: PlanReport): PlanPoint[] => points(report.front.map((p) => toPoint(p)));

/** The uniform plans' points, labelled with their scheme, smallest first. */
export const uniformPoints = (report: PlanReport): PlanPoint[] =>
  points(report.uniform.map((u) => toPoint(u, u.scheme))).sort((a, b) => a.mb - b.mb);

export function quantPlanPlot(
  report: PlanReport,
  { width = 640, height = 280, current, budgetBytes }: QuantPlanOptions = {},
): PlotSpec {
  const front = frontPoints(report);
  const uniform = uniformPoints(report);
  const chosen = points([toPoint(report.chosen)]);
  const mine = current ? points([toPoint(current)]) : [];
  const budget = budgetBytes && Number.isFinite(budgetBytes) ? [budgetBytes / 1e6] : [];
  const all = [...front, ...uniform, ...chosen, ...mine];
  const xs = [...all.map((p) => p.mb), ...budget, report.floatBytes / 1e6];
  const ys = all.map((p) => p.sqnr);
  const yLo = ys.length ? Math.min(...ys) : 0;
  const yHi = ys.length ? Math.max(...ys) : 60;
  return plotSpec({
    width,
    height,
    marginLeft: 48,
    marginRight: 24,
    style: chartStyle,
    x: { domain: [0, Math.max(...xs) * 1.02 || 1], grid: true, label: 'model weight size (MB)' },
    y: {
      domain: [Math.floor(yLo / 5) * 5 - 5, Math.ceil(yHi / 5) * 5 + 5],
      grid: true,
      label: 'worst-layer SQNR (dB)',
    },
    marks: [
      Plot.ruleX(budget, {
        stroke: colors.change,
        strokeDasharray: '4 3',
        ariaDescription: QUANT_PLAN_MARKS.budget,
      }),
      Plot.line(front, {
        x: 'mb',
        y: 'sqnr',
        curve: 'step-after',
        stroke: colors.before,
        ariaDescription: QUANT_PLAN_MARKS.front,
      }),
      Plot.dot(uniform, {
        x: 'mb',
        y: 'sqnr',
        r: 3.5,
        symbol: 'square',
        fill: colors.perGroup,
        ariaDescription: QUANT_PLAN_MARKS.uniform,
      }),
      Plot.text(uniform, {
        x: 'mb',
        y: 'sqnr',
        text: (d: PlanPoint) =>
          d.label
            .replace(/symmetric/, 'sym')
            .replace(/asymmetric/, 'asym')
            .replace(/^int/, 'INT'),
        dx: 6,
        textAnchor: 'start',
        fontSize: 10,
        fill: 'currentColor',
        ariaDescription: QUANT_PLAN_MARKS.uniformLabels,
      }),
      Plot.dot(chosen, {
        x: 'mb',
        y: 'sqnr',
        r: 6,
        fill: colors.after,
        stroke: 'var(--_background, white)',
        strokeWidth: 1.5,
        ariaDescription: QUANT_PLAN_MARKS.chosen,
      }),
      Plot.dot(mine, {
        x: 'mb',
        y: 'sqnr',
        r: 6,
        symbol: 'diamond',
        fill: 'none',
        stroke: colors.outlier,
        strokeWidth: 2,
        ariaDescription: QUANT_PLAN_MARKS.current,
      }),
    ],
  });
}

const mbText = (bytes: number) => `${(bytes / 1e6).toFixed(2)} MB`;
const dbText = (db: number) => (Number.isFinite(db) ? `${db.toFixed(1)} dB` : 'exact');

/** SVG <title> and <desc> text for the chart. */
export function quantPlanText(
  report: PlanReport,
  file: string,
  current?: FrontPoint | null,
): { title: string; description: string } {
  const front = report.front;
  const uniform = uniformPoints(report);
  const smallest = front[0];
  return {
    title: `Model weight size against worst-layer SQNR of ${file}`,
    description:
      `${front.length} plans on the front${smallest ? `, from ${mbText(smallest.bytes)} (worst layer ${dbText(smallest.worstSqnr)})` : ''} ` +
      `to ${mbText(report.floatBytes)} (every weight float). ` +
      `Chosen for the budget: ${mbText(report.chosen.bytes)}, worst layer ${dbText(report.chosen.worstSqnr)}. ` +
      (uniform.length
        ? `Uniform plans: ${uniform.map((u) => `${u.label} ${u.mb.toFixed(2)} MB, ${u.sqnr.toFixed(1)} dB`).join('; ')}.`
        : '') +
      (current ? ` The plan as changed: ${mbText(current.bytes)}, worst layer ${dbText(current.worstSqnr)}.` : ''),
  };
}
