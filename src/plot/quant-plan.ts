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

/** Margins of the chart (px): fixed, so labels can be placed in pixels here. */
const MARGIN = { top: 20, right: 24, bottom: 32, left: 48 };

/**
 * The uniform plans that get a name on the chart: first those no other uniform plan beats (no larger and no
 * worse), then the rest, each only where its label overlaps no label placed before it. `px` maps a point
 * to pixels.
 */
export function labelledUniform(uniform: readonly PlanPoint[], px: (p: PlanPoint) => [number, number]): PlanPoint[] {
  const beaten = (p: PlanPoint) =>
    uniform.some((q) => q !== p && q.mb <= p.mb && q.sqnr >= p.sqnr && (q.mb < p.mb || q.sqnr > p.sqnr));
  const order = [...uniform.filter((p) => !beaten(p)), ...uniform.filter(beaten)];
  const boxes: [number, number, number, number][] = [];
  const placed: PlanPoint[] = [];
  for (const p of order) {
    const [x, y] = px(p);
    const box: [number, number, number, number] = [x, y - 7, x + 8 + shortLabel(p.label).length * 5.8, y + 7];
    if (boxes.some((b) => box[0] < b[2] && b[0] < box[2] && box[1] < b[3] && b[1] < box[3])) continue;
    boxes.push(box);
    placed.push(p);
  }
  return placed;
}

/** "int8 symmetric per-channel" -> "INT8 sym per-channel". */
export const shortLabel = (scheme: string) =>
  scheme
    .replace(/^int/, 'INT')
    .replace(/\basymmetric\b/, 'asym')
    .replace(/\bsymmetric\b/, 'sym');

export function quantPlanPlot(
  report: PlanReport,
  { width = 640, height = 280, current, budgetBytes }: QuantPlanOptions = {},
): PlotSpec {
  const front = frontPoints(report);
  const uniform = uniformPoints(report);
  const chosen = points([toPoint(report.chosen)]);
  const mine = current ? points([toPoint(current)]) : [];
  const budget = budgetBytes && Number.isFinite(budgetBytes) ? [budgetBytes / 1e6] : [];
  // The x axis spans the plans worth comparing (the front's tail runs on to every weight float, clipped).
  const shown = [...uniform, ...chosen, ...mine];
  const xs = [...(shown.length ? shown : front).map((p) => p.mb), ...budget];
  const xMax = xs.length ? Math.max(...xs) * 1.1 : report.floatBytes / 1e6 || 1;
  const ys = [...front.filter((p) => p.mb <= xMax), ...shown].map((p) => p.sqnr);
  const y0 = ys.length ? Math.floor(Math.min(...ys) / 5) * 5 - 5 : 0;
  const y1 = ys.length ? Math.ceil(Math.max(...ys) / 5) * 5 + 5 : 60;
  const px = (p: PlanPoint): [number, number] => [
    MARGIN.left + (p.mb / xMax) * (width - MARGIN.left - MARGIN.right),
    MARGIN.top + (1 - (p.sqnr - y0) / (y1 - y0)) * (height - MARGIN.top - MARGIN.bottom),
  ];
  return plotSpec({
    width,
    height,
    marginTop: MARGIN.top,
    marginRight: MARGIN.right,
    marginBottom: MARGIN.bottom,
    marginLeft: MARGIN.left,
    style: chartStyle,
    x: { domain: [0, xMax], grid: true, label: 'model weight size (MB)' },
    y: { domain: [y0, y1], grid: true, label: 'worst-layer SQNR (dB)' },
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
        clip: true,
        ariaDescription: QUANT_PLAN_MARKS.front,
      }),
      Plot.dot(uniform, {
        x: 'mb',
        y: 'sqnr',
        r: 3.5,
        symbol: 'square',
        fill: colors.perGroup,
        title: (d: PlanPoint) => `${shortLabel(d.label)}: ${d.mb.toFixed(2)} MB, ${d.sqnr.toFixed(1)} dB`,
        ariaDescription: QUANT_PLAN_MARKS.uniform,
      }),
      Plot.text(labelledUniform(uniform, px), {
        x: 'mb',
        y: 'sqnr',
        text: (d: PlanPoint) => shortLabel(d.label),
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
