// "Will it survive INT8?" for the whole model: every weight layer's SQNR (dB) of fake-quantized weights
// for one bit width and scheme, per-tensor and per-channel, one row per layer with the gap between them
// drawn, and per-group for one block size, sorted so the worst layers (lowest per-tensor SQNR) come first.
// Null SQNR means exact (no error).
// Given the figures before CLE as well, each row also shows them hollow, with an arrow to the figures after.
import * as Plot from '@observablehq/plot';
import { plotSpec } from './plot-options.js';
import type { PlotSpec } from './plot-spec.js';
import { groupBlocksOf, groupSqnr, type QuantFigures, type QuantReport } from '../report/quant-error.js';
import type { CleReport } from '../report/cle-report.js';
import type { LayerReport, StatsReport } from '../report/stats-report.js';
import { formatList, tickFormat } from './format.js';
import { sqnrRank } from '../report/worst-layers.js';
import { chartStyle, colors } from './theme.js';

export type QuantBits = 8 | 4;
export type QuantScheme = 'symmetric' | 'asymmetric';
/** `worst`: lowest per-tensor SQNR first (exact and unavailable last); `model`: model order. */
export type QuantSort = 'worst' | 'model';

/** One weight layer's figures for the chosen bit width and scheme. */
export interface QuantErrorRow {
  /** Position in model order (the report's `layers`). */
  index: number;
  /** Position in the chart (0 at the top). */
  rank: number;
  name: string;
  op: string;
  /** SQNR in dB; null when exact (or unavailable, see `available`). */
  perTensor: number | null;
  perChannel: number | null;
  /** perChannel − perTensor in dB; null unless both are numbers. */
  gap: number | null;
  /** Per-group SQNR for the block size shown (`block`); null when exact or unavailable (see perGroupText). */
  perGroup: number | null;
  /** The block size of `perGroup`; null when the report has no per-group figures. */
  block: number | null;
  perTensorText: string;
  perChannelText: string;
  /** "n/a" when the results have no per-group figure for the block size (made before they existed, or with other blocks). */
  perGroupText: string;
  gapText: string;
  /** False when the layer has no figures (its weight holds NaN/±Inf). */
  available: boolean;
  /** All the layer's figures (null where the weight holds NaN/±Inf). */
  quant: QuantReport | null;
  /** The same figures before CLE, when comparing (null: not comparing, or the layer has no figures before). */
  before: BeforeFigures | null;
}

/** A layer's SQNR for the chosen bit width and scheme before CLE. */
export interface BeforeFigures {
  perTensor: number | null;
  perChannel: number | null;
  perTensorText: string;
  perChannelText: string;
  /** Per-tensor SQNR after − before in dB ("+3.20 dB"); "—" unless both are numbers. */
  changeText: string;
}

export interface QuantErrorOptions {
  bits?: QuantBits;
  scheme?: QuantScheme;
  sort?: QuantSort;
  /** Block size of the per-group figures shown; default: the smallest the report carries (see groupBlocks). */
  block?: number | null;
  width?: number;
  /** Name of the layer to highlight. */
  selected?: string | null;
  /** Figures before CLE, matched to the report's layers by name: drawn hollow, with arrows to the report's. */
  before?: StatsReport | null;
}

export const QUANT_ERROR_MARKS = {
  selected: 'selected layer',
  gap: 'gap between per-tensor and per-channel SQNR',
  perTensor: 'per-tensor SQNR',
  perChannel: 'per-channel SQNR',
  perGroup: 'per-group SQNR',
  beforePerTensor: 'per-tensor SQNR before CLE',
  beforePerChannel: 'per-channel SQNR before CLE',
  change: 'change of per-tensor SQNR with CLE',
} as const;

/** Text of an SQNR: two decimals and "dB", "exact" for null. */
export function formatDb(value: number | null): string {
  return value === null ? 'exact' : `${value.toFixed(2).replace('-', '−')} dB`;
}

/**
 * From here on an SQNR is float32 rounding, not quantization error (2^-24 relative is ~144 dB): per-group
 * figures of blocks that hold one weight each (a depthwise Conv) land there; they are not drawn.
 */
export const FLOAT_ROUNDING_DB = 120;

/** Drawn: a per-group figure below FLOAT_ROUNDING_DB (higher ones are float rounding, listed as not drawn). */
export const perGroupDrawn = (d: QuantErrorRow) => d.perGroup !== null && d.perGroup < FLOAT_ROUNDING_DB;

/** Layers with a per-group figure that is not drawn: exact, or float rounding only (one weight per block). */
export const perGroupNotDrawn = (rows: QuantErrorRow[]) =>
  rows.filter((d) => d.available && d.perGroupText !== 'n/a' && !perGroupDrawn(d)).map((d) => d.name);

export const PER_GROUP_NOT_DRAWN =
  'Per-group exact or float rounding only (e.g. depthwise: one weight per block), not drawn';

/** The block sizes of the report's per-group figures, ascending. */
export function groupBlocks(report: StatsReport): number[] {
  const sizes = new Set(report.layers.flatMap((l) => groupBlocksOf(l.quant)));
  return [...sizes].sort((a, b) => a - b);
}

/** The block size shown: `block` when the report has it, else the smallest it has; null when it has none. */
export function shownBlock(report: StatsReport, block: number | null | undefined): number | null {
  const blocks = groupBlocks(report);
  return block != null && blocks.includes(block) ? block : (blocks[0] ?? null);
}

const signedDb = (d: number) => `${d >= 0 ? '+' : '−'}${Math.abs(d).toFixed(2)} dB`;

/** The statistics before and after CLE of a CleReport's layers, as two StatsReports (for the options' `before`). */
export function cleQuantReports(cle: CleReport): { before: StatsReport; after: StatsReport } {
  const summary = {
    irVersion: 0,
    producer: '',
    producerVersion: '',
    opsets: {},
    parameters: 0,
    quantizedParameters: 0,
  };
  const side = (which: 'before' | 'after') => ({
    file: cle.file,
    model: summary,
    layers: cle.layers.map((l) => l[which]),
  });
  return { before: side('before'), after: side('after') };
}

/** True when every layer carries quantization figures (`weightlens stats --json`, or the page's Worker). */
export function hasQuantFigures(report: StatsReport): boolean {
  return report.layers.every((l) => l.quant !== undefined);
}

/** Height of one layer's row in pixels: roomier for few layers, compact (but still labelled) for hundreds. */
export function quantRowHeight(layers: number): number {
  return layers <= 30 ? 20 : layers <= 120 ? 16 : 13;
}

const MARGIN_TOP = 34;
const MARGIN_BOTTOM = 8;

export function quantErrorRows(
  report: StatsReport,
  { bits = 8, scheme = 'symmetric', sort = 'worst', block, before }: QuantErrorOptions = {},
): QuantErrorRow[] {
  const shown = shownBlock(report, block);
  const figures = (l: LayerReport | undefined): QuantFigures | null =>
    l?.quant?.[bits === 4 ? 'int4' : 'int8'][scheme] ?? null;
  const beforeByName = new Map(before?.layers.map((l) => [l.name, l]));
  const na = 'n/a (non-finite weights)';
  const rows = report.layers.map((l, index) => {
    const quant = l.quant ?? null;
    const f = figures(l);
    const perTensor = f?.perTensor ?? null;
    const perChannel = f?.perChannel ?? null;
    const gap = perTensor !== null && perChannel !== null ? perChannel - perTensor : null;
    const group = shown === null || !f ? undefined : groupSqnr(f, shown);
    const b = before ? figures(beforeByName.get(l.name)) : null;
    return {
      index,
      rank: index,
      name: l.name,
      op: l.op,
      perTensor,
      perChannel,
      perGroup: group ?? null,
      block: shown,
      gap,
      available: f !== null,
      quant,
      perTensorText: f ? formatDb(perTensor) : na,
      perChannelText: f ? formatDb(perChannel) : na,
      perGroupText: !f ? na : group === undefined ? 'n/a' : formatDb(group),
      gapText: gap !== null ? signedDb(gap) : '—',
      before: b && {
        perTensor: b.perTensor,
        perChannel: b.perChannel,
        perTensorText: formatDb(b.perTensor),
        perChannelText: formatDb(b.perChannel),
        changeText: b.perTensor !== null && perTensor !== null ? signedDb(perTensor - b.perTensor) : '—',
      },
    };
  });
  if (sort === 'worst') {
    // Numbers ascending; exact (no error) after them; unavailable last. Stable: ties keep model order.
    const key = (r: QuantErrorRow) => sqnrRank(r.available ? r.perTensor : undefined);
    rows.sort((a, b) => key(a) - key(b) || a.index - b.index);
  }
  rows.forEach((r, rank) => (r.rank = rank));
  return rows;
}

/**
 * The x domain: a little either side of the figures, on multiples of 5 dB (a dot plot needs no zero: the
 * differences between layers and the gaps are what is read).
 */
function sqnrDomain(rows: QuantErrorRow[]): [number, number] {
  let lo = Infinity,
    hi = -Infinity;
  for (const r of rows) {
    const group = perGroupDrawn(r) ? r.perGroup : null;
    for (const v of [r.perTensor, r.perChannel, group, r.before?.perTensor ?? null, r.before?.perChannel ?? null]) {
      if (v !== null) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
    }
  }
  if (lo > hi) return [0, 10];
  const from = Math.floor((lo - 2) / 5) * 5;
  return [lo >= 0 ? Math.max(0, from) : from, Math.max(from + 10, Math.ceil((hi + 1) / 5) * 5)];
}

const truncate = (s: string, n: number) => (s.length <= n ? s : `${s.slice(0, Math.max(1, n - 1))}…`);

export function quantErrorPlot(report: StatsReport, options: QuantErrorOptions = {}): PlotSpec {
  const { width = 640, selected } = options;
  const rows = quantErrorRows(report, options);
  const n = rows.length;
  const rowHeight = quantRowHeight(n);
  const marginLeft = Math.round(Math.min(240, Math.max(90, width * 0.3)));
  const labelChars = Math.floor((marginLeft - 12) / 6.2);
  const [lo, hi] = sqnrDomain(rows);
  const r = rowHeight >= 16 ? 4.5 : 3.5;
  const chosen = rows.filter((d) => d.name === selected);
  const names = rows.map((d) => d.name);
  const compared = rows.filter((d) => d.before);
  const moved = compared.filter(
    (d) => d.before!.perTensor !== null && d.perTensor !== null && d.before!.perTensor !== d.perTensor,
  );
  return plotSpec({
    width,
    height: quantRowGeometry(n).height,
    marginTop: MARGIN_TOP,
    marginBottom: MARGIN_BOTTOM,
    marginLeft,
    marginRight: 16,
    style: chartStyle,
    x: { domain: [lo, hi], axis: 'top', grid: true, label: 'SQNR (dB) → better', labelAnchor: 'right', tickFormat },
    y: {
      type: 'band',
      domain: rows.map((d) => d.rank),
      padding: 0,
      label: null,
      tickSize: 0,
      tickFormat: (rank: number) => truncate(names[rank] ?? '', labelChars),
    },
    marks: [
      Plot.barX(chosen, {
        y: 'rank',
        x1: lo,
        x2: hi,
        fill: 'var(--_selected-background, #ddf4ff)',
        stroke: 'var(--_accent-color, #0969da)',
        strokeWidth: 1,
        ariaDescription: QUANT_ERROR_MARKS.selected,
      }),
      Plot.ruleY(
        rows.filter((d) => d.gap !== null),
        {
          y: 'rank',
          x1: 'perTensor',
          x2: 'perChannel',
          stroke: colors.gap,
          strokeWidth: rowHeight >= 16 ? 2.5 : 2,
          ariaDescription: QUANT_ERROR_MARKS.gap,
        },
      ),
      Plot.arrow(moved, {
        y: 'rank',
        x1: (d: QuantErrorRow) => d.before!.perTensor,
        x2: 'perTensor',
        stroke: colors.change,
        strokeWidth: 1.5,
        headLength: rowHeight >= 16 ? 6 : 4,
        insetEnd: r,
        ariaDescription: QUANT_ERROR_MARKS.change,
      }),
      Plot.dot(
        compared.filter((d) => d.before!.perTensor !== null),
        {
          x: (d: QuantErrorRow) => d.before!.perTensor,
          y: 'rank',
          r,
          stroke: colors.perTensor,
          fill: 'none',
          strokeWidth: 1.5,
          symbol: 'square',
          ariaDescription: QUANT_ERROR_MARKS.beforePerTensor,
        },
      ),
      Plot.dot(
        compared.filter((d) => d.before!.perChannel !== null),
        {
          x: (d: QuantErrorRow) => d.before!.perChannel,
          y: 'rank',
          r,
          stroke: colors.perChannel,
          fill: 'none',
          strokeWidth: 1.5,
          ariaDescription: QUANT_ERROR_MARKS.beforePerChannel,
        },
      ),
      Plot.dot(
        rows.filter((d) => d.perTensor !== null),
        {
          x: 'perTensor',
          y: 'rank',
          r,
          fill: colors.perTensor,
          symbol: 'square',
          ariaDescription: QUANT_ERROR_MARKS.perTensor,
        },
      ),
      Plot.dot(
        rows.filter((d) => d.perChannel !== null),
        {
          x: 'perChannel',
          y: 'rank',
          r,
          fill: colors.perChannel,
          ariaDescription: QUANT_ERROR_MARKS.perChannel,
        },
      ),
      Plot.dot(rows.filter(perGroupDrawn), {
        x: 'perGroup',
        y: 'rank',
        r: r + 0.5,
        fill: colors.perGroup,
        symbol: 'diamond2',
        ariaDescription: QUANT_ERROR_MARKS.perGroup,
      }),
    ],
  });
}

/** Pixel geometry of the rows in the chart's own coordinates (for a cursor overlay and hit testing). */
export function quantRowGeometry(layers: number): { top: number; rowHeight: number; height: number } {
  const rowHeight = quantRowHeight(layers);
  return { top: MARGIN_TOP, rowHeight, height: MARGIN_TOP + MARGIN_BOTTOM + Math.max(1, layers) * rowHeight };
}

export const schemeLabel = (bits: QuantBits, scheme: QuantScheme) => `INT${bits} ${scheme}`;

/** SVG <title> and <desc> text for the chart. */
export function quantErrorText(
  report: StatsReport,
  options: QuantErrorOptions = {},
): { title: string; description: string } {
  const { bits = 8, scheme = 'symmetric', sort = 'worst', selected } = options;
  const rows = quantErrorRows(report, options);
  const label = schemeLabel(bits, scheme);
  const measured = rows.filter((d) => d.perTensor !== null);
  const worst =
    sort === 'worst' ? measured.slice(0, 3) : [...measured].sort((a, b) => a.perTensor! - b.perTensor!).slice(0, 3);
  const gaps = rows.filter((d) => d.gap !== null);
  const widest = gaps.reduce<QuantErrorRow | undefined>((w, d) => (!w || d.gap! > w.gap! ? d : w), undefined);
  const exact = rows.filter((d) => d.available && (d.perTensor === null || d.perChannel === null)).map((d) => d.name);
  const unavailable = rows.filter((d) => !d.available).map((d) => d.name);
  const chosen = rows.find((d) => d.name === selected);
  const block = shownBlock(report, options.block);
  const groupNotDrawn = perGroupNotDrawn(rows);
  return {
    title:
      `${label} quantization SQNR per layer of ${report.file}, per-tensor and per-channel` +
      `${block === null ? '' : `, per-group in blocks of ${block}`}${options.before ? ', after CLE against before' : ''}`,
    description: (
      `${rows.length} weight layers, ${sort === 'worst' ? 'lowest per-tensor SQNR first' : 'in model order'}; each with its per-tensor (square) ` +
      `and per-channel (dot) SQNR in dB and a bar for the gap between them` +
      `${block === null ? '' : `, and its per-group SQNR with blocks of ${block} (diamond)`} (higher is better). ` +
      (worst.length ? `Lowest per-tensor: ${worst.map((d) => `${d.name} ${d.perTensorText}`).join(', ')}. ` : '') +
      (widest ? `Widest gap: ${widest.name}, per-channel ${widest.gapText}. ` : '') +
      (exact.length ? `Exact (no error, not drawn): ${formatList(exact, 10)}. ` : '') +
      (unavailable.length ? `No figures (non-finite weights): ${formatList(unavailable, 10)}. ` : '') +
      (groupNotDrawn.length ? `${PER_GROUP_NOT_DRAWN}: ${formatList(groupNotDrawn, 10)}. ` : '') +
      (options.before ? `${cleChangeText(rows)} ` : '') +
      (chosen
        ? `Selected: ${chosen.name}, per-tensor ${chosen.perTensorText}, per-channel ${chosen.perChannelText}` +
          `${block === null ? '' : `, per-group ${chosen.perGroupText}`}.`
        : '')
    ).trim(),
  };
}

/** What CLE did to per-tensor SQNR over the rows: how many layers gained or lost, and the largest gain. */
export function cleChangeText(rows: QuantErrorRow[]): string {
  const changes = rows.flatMap((d) =>
    d.before && d.before.perTensor !== null && d.perTensor !== null
      ? [{ row: d, delta: d.perTensor - d.before.perTensor }]
      : [],
  );
  const up = changes.filter((c) => c.delta > 0.005).length;
  const down = changes.filter((c) => c.delta < -0.005).length;
  const best = changes.reduce<(typeof changes)[number] | undefined>(
    (b, c) => (!b || c.delta > b.delta ? c : b),
    undefined,
  );
  return (
    `After CLE (filled) against before (hollow): per-tensor SQNR higher in ${up} and lower in ${down} of ${changes.length} layers` +
    (best && best.delta > 0.005
      ? `; largest gain ${best.row.name}, ${best.row.before!.perTensorText} → ${best.row.perTensorText}.`
      : '.')
  );
}
