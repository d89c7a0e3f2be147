// The human form of `weightlens stats`: one row per layer in aligned columns, then the worst layers and
// the notes. Numbers in at most 4 significant digits; lines within LINE_BUDGET unless `wide`.
import { allChannelsDead } from '../report/dead-channels.js';
import { groupBlocksOf, groupSqnr } from '../report/quant-error.js';
import { shortCount, shortNumber } from '../report/short-number.js';
import type { LayerReport, StatsReport } from '../report/stats-report.js';
import { rankingSqnr, worstFirst } from '../report/worst-layers.js';
import { layoutTable, wrap, type Column } from './text-layout.js';

/** How many of the worst layers the summary names. */
const WORST_SHOWN = 5;

const extreme = (values: (number | null)[], pick: (a: number, b: number) => number) =>
  values.reduce<number | null>((acc, v) => (v === null ? acc : acc === null ? v : pick(acc, v)), null);

const layerName = (l: LayerReport) => (l.graph === 'main' ? l.name : `${l.graph}/${l.name}`);

/** The count, and with `wide` the channels themselves. */
function outlierText(l: LayerReport, wide: boolean): string {
  if (l.outliers.length === 0) return '-';
  return wide ? `${l.outliers.length} [${l.outliers.join(',')}]` : String(l.outliers.length);
}

const db = (v: number | null | undefined) => (v === null || v === undefined ? 'exact' : v.toFixed(1));

const sqnrText = (l: LayerReport) =>
  l.quant ? `${db(l.quant.int8.symmetric.perTensor)}/${db(l.quant.int8.symmetric.perChannel)}` : 'n/a';

/** The block size whose INT4 symmetric per-group SQNR the table shows: the smallest the results carry. */
function shownBlock(report: StatsReport): number | undefined {
  const sizes = report.layers.flatMap((l) => groupBlocksOf(l.quant));
  return sizes.length ? Math.min(...sizes) : undefined;
}

const groupText = (l: LayerReport, block: number) => {
  const v = groupSqnr(l.quant?.int4.symmetric, block);
  return v === undefined ? 'n/a' : db(v);
};

export function formatStatsTable(report: StatsReport, { wide = false } = {}): string {
  const withQuant = report.layers.some((l) => l.quant !== undefined);
  const block = shownBlock(report);
  // NaN/±Inf weights are rare: their column shows only when some layer has them.
  const withNonFinite = report.layers.some((l) => l.nonFinite > 0);
  const columns: Column[] = [
    { header: 'layer', numeric: false, shrink: { min: 16, keepEnd: true } },
    { header: 'op', numeric: false },
    { header: 'shape', numeric: false, shrink: { min: 12, keepEnd: false } },
    { header: 'ch', numeric: true },
    { header: 'dead', numeric: true },
    { header: 'min', numeric: true },
    { header: 'max', numeric: true },
    { header: 'max rel', numeric: true },
    { header: 'outliers', numeric: !wide },
    ...(withNonFinite ? [{ header: 'non-finite', numeric: true }] : []),
    ...(withQuant ? [{ header: 'INT8 dB t/ch', numeric: true }] : []),
    ...(block ? [{ header: `INT4 g${block}`, numeric: true }] : []),
  ];
  const rows = report.layers.map((l) => [
    layerName(l),
    l.recurrent
      ? `${l.op} ${l.recurrent.input}`
      : l.depthwise
        ? `${l.op} dw`
        : l.groups > 1
          ? `${l.op} g${l.groups}`
          : l.op,
    `[${l.shape.join(',')}]`,
    String(l.channels.min.length),
    String(l.deadChannels.length),
    shortNumber(extreme(l.channels.min, Math.min)),
    shortNumber(extreme(l.channels.max, Math.max)),
    shortNumber(l.maxRelativeRange),
    outlierText(l, wide),
    ...(withNonFinite ? [String(l.nonFinite)] : []),
    ...(withQuant ? [sqnrText(l)] : []),
    ...(block ? [groupText(l, block)] : []),
  ]);
  const { model } = report;
  const opsets = Object.entries(model.opsets)
    .map(([d, v]) => `${d || 'ai.onnx'} ${v}`)
    .join(', ');
  const quantized = model.quantizedParameters ? ` (+${shortCount(model.quantizedParameters)} stored as integers)` : '';
  const title =
    `${report.file}: IR ${model.irVersion}, opset ${opsets}, ${shortCount(model.parameters)} parameters${quantized}, ` +
    `${report.layers.length} weight layers`;
  return (
    [
      ...wrap(title),
      '',
      ...layoutTable(columns, rows, wide),
      ...worstLayers(report, withQuant, block),
      ...notes(report),
    ].join('\n') + '\n'
  );
}

/** The layers that will hurt most, worst first (see worstFirst). */
function worstLayers(report: StatsReport, withQuant: boolean, block: number | undefined): string[] {
  if (report.layers.length < 2) return [];
  const worst = worstFirst(report.layers).slice(0, WORST_SHOWN);
  const heading = withQuant
    ? `worst ${worst.length} of ${report.layers.length} layers by INT8 symmetric per-tensor SQNR (lowest first; the relative range is AIMET's view):`
    : `no SQNR computed (--no-quant): the ${worst.length} largest relative ranges of ${report.layers.length} layers:`;
  const rows = worst.map((l) => [
    layerName(l),
    ...(withQuant
      ? [
          l.quant ? `${db(rankingSqnr(l))} dB` : 'n/a',
          l.quant ? `per-channel ${db(l.quant.int8.symmetric.perChannel)} dB` : '',
        ]
      : []),
    ...(block ? [`INT4 g${block} ${groupText(l, block)}${l.quant ? ' dB' : ''}`] : []),
    `max rel range ${shortNumber(l.maxRelativeRange)}`,
    `${l.outliers.length} outlier${l.outliers.length === 1 ? '' : 's'}`,
  ]);
  const columns: Column[] = rows[0]!.map((_, c) => ({
    header: '',
    numeric: withQuant && c === 1,
    ...(c === 0 ? { shrink: { min: 16, keepEnd: true } } : {}),
  }));
  // layoutTable's first line is the (empty) header.
  return ['', ...wrap(heading), ...layoutTable(columns, rows, false, '  ').slice(1)];
}

/** Dead channels and the reader's notes, each a wrapped paragraph. */
function notes(report: StatsReport): string[] {
  const paragraphs: string[] = [];
  const dead = report.layers.filter((l) => l.deadChannels.length > 0);
  if (dead.length > 0) {
    const count = (l: LayerReport) =>
      `${allChannelsDead(l) ? 'all' : l.deadChannels.length} of ${l.channels.min.length}`;
    paragraphs.push(
      `dead channels (range at most 1e-4 of the layer's largest, or no finite value): harmless for weight quantization, ` +
        `left out of the relative range: ${dead.map((l) => `${layerName(l)} (${count(l)})`).join(', ')}`,
    );
  }
  for (const l of report.layers) for (const n of l.notes ?? []) paragraphs.push(`note: ${l.name}: ${n}`);
  return paragraphs.flatMap((p) => ['', ...wrap(p)]);
}
