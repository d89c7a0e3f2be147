// The human form of `weightlens stats`: one row per layer, columns aligned.
import type { LayerReport, StatsReport } from '../report/stats-report.js';

const num = (v: number | null) => (v === null ? '-' : Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(2) : v.toPrecision(4));

const extreme = (values: (number | null)[], pick: (a: number, b: number) => number) =>
  values.reduce<number | null>((acc, v) => (v === null ? acc : acc === null ? v : pick(acc, v)), null);

function outlierText(l: LayerReport): string {
  if (l.outliers.length === 0) return '-';
  const shown = l.outliers.slice(0, 4).join(',');
  return `${l.outliers.length} [${shown}${l.outliers.length > 4 ? ',…' : ''}]`;
}

function maxRelText(l: LayerReport): string {
  if (l.minRange === 0) return 'inf';
  return l.maxRelativeRange === null ? '-' : l.maxRelativeRange.toFixed(1);
}

const db = (v: number | null | undefined) => (v === null || v === undefined ? 'exact' : v.toFixed(1));

export function formatStatsTable(report: StatsReport): string {
  const withQuant = report.layers.some((l) => l.quant !== undefined);
  const header = ['layer', 'op', 'shape', 'channels', 'min', 'max', 'max rel range', 'outliers', 'non-finite'];
  if (withQuant) header.push('INT8 SQNR dB tensor/channel');
  const rows = report.layers.map((l) => [
    l.graph === 'main' ? l.name : `${l.graph}/${l.name}`,
    l.recurrent ? `${l.op} ${l.recurrent.input}` : l.depthwise ? `${l.op} dw` : l.groups > 1 ? `${l.op} g${l.groups}` : l.op,
    `[${l.shape.join(',')}]`,
    String(l.channels.min.length),
    num(extreme(l.channels.min, Math.min)),
    num(extreme(l.channels.max, Math.max)),
    maxRelText(l),
    outlierText(l),
    String(l.nonFinite),
    ...(withQuant ? [l.quant ? `${db(l.quant.int8.symmetric.perTensor)} / ${db(l.quant.int8.symmetric.perChannel)}` : '-'] : []),
  ]);
  const numeric = new Set([3, 4, 5, 6, 8, 9]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) =>
    cells.map((cell, c) => (numeric.has(c) ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!))).join('  ').trimEnd();
  const { model } = report;
  const opsets = Object.entries(model.opsets).map(([d, v]) => `${d || 'ai.onnx'} ${v}`).join(', ');
  const title = `${report.file}: IR ${model.irVersion}, opset ${opsets}, ${model.parameters.toLocaleString('en-US')} parameters, ${report.layers.length} weight layers`;
  const notes = report.layers.flatMap((l) => (l.notes ?? []).map((note) => `note: ${l.name}: ${note}`));
  return [title, '', line(header), ...rows.map(line), ...(notes.length > 0 ? ['', ...notes] : [])].join('\n') + '\n';
}
