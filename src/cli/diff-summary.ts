// The human form of `weightlens diff`: how the layers were matched, one row per matched layer (largest change
// first), then the layers only one side has and the BatchNorms folded for the comparison.
import type { DiffLayer, DiffReport } from '../report/diff-report.js';
import { shortNumber } from '../report/short-number.js';
import { plural } from '../text/plural.js';
import { layoutTable, wrap } from './text-layout.js';

const db = (v: number | null | undefined) => (v === undefined ? '-' : v === null ? 'exact' : v.toFixed(1));
const arrow = (a: string, b: string) => (a === b ? a : `${a} -> ${b}`);
const channels = (list: readonly number[]) => (list.length ? String(list.length) : '-');

/** Largest relative change first; layers whose shapes changed (no change figure) last. */
const byChange = (a: DiffLayer, b: DiffLayer) => (b.relativeChange ?? -1) - (a.relativeChange ?? -1);

/** The names a short list shows: all when `wide`, else the first few. */
function someOf(names: readonly string[], wide: boolean): string {
  const shown = wide ? names : names.slice(0, 5);
  return shown.join(', ') + (shown.length < names.length ? `, … (${names.length - shown.length} more)` : '');
}

export function formatDiffSummary(report: DiffReport, { wide = false } = {}): string {
  const by = (method: DiffLayer['matchedBy']) => report.layers.filter((l) => l.matchedBy === method).length;
  const lines = [
    ...wrap(
      `${report.before} -> ${report.after}: ${plural(report.layers.length, 'layer')} matched ` +
        `(${by('weight name')} by weight name, ${by('node name')} by node name, ${by('position and shape')} by position and shape); ` +
        `${report.onlyBefore.length} only before, ${report.onlyAfter.length} only after`,
    ),
  ];
  if (report.layers.length > 0) {
    const rows = [...report.layers]
      .sort(byChange)
      .map((l) => [
        arrow(l.before, l.after),
        l.matchedBy,
        l.shapeChanged ? 'shape' : shortNumber(l.relativeChange),
        l.shapeChanged ? '-' : db(l.sqnr),
        arrow(shortNumber(l.beforeStats.maxRelativeRange), shortNumber(l.afterStats.maxRelativeRange)),
        arrow(db(l.beforeStats.quant?.int8.symmetric.perTensor), db(l.afterStats.quant?.int8.symmetric.perTensor)),
        channels(l.flippedChannels),
        channels(l.diedChannels),
      ]);
    lines.push(
      '',
      ...layoutTable(
        [
          { header: 'layer', numeric: false, shrink: { min: 24, keepEnd: true } },
          { header: 'matched by', numeric: false },
          { header: 'rel. change', numeric: true },
          { header: 'SQNR dB', numeric: true },
          { header: 'max rel. range', numeric: false },
          { header: 'INT8/tensor dB', numeric: false },
          { header: 'flipped', numeric: true },
          { header: 'died', numeric: true },
        ],
        rows,
        wide,
      ),
    );
    lines.push(
      '',
      ...wrap(
        'rel. change: ‖after − before‖ / ‖before‖; SQNR: after taken as a quantized before; max rel. range and ' +
          'INT8 per-tensor SQNR: each side on its own, before -> after; flipped: channels whose weights point the ' +
          'other way; died: channels dead after, alive before.',
      ),
    );
  }
  const folded = report.layers.filter((l) => l.folded);
  if (folded.length > 0)
    lines.push(
      ...wrap(
        `BatchNorm folded for the comparison into ${plural(folded.length, 'layer')} (the other side had it folded): ` +
          someOf(
            folded.map((l) => `${l.folded!.side === 'before' ? l.before : l.after} (${l.folded!.batchNorm})`),
            wide,
          ),
      ),
    );
  for (const n of report.notFolded) lines.push(...wrap(`not folded: ${n.layer}: ${n.reason}`));
  if (report.onlyBefore.length) lines.push(...wrap(`only before: ${someOf(report.onlyBefore, wide)}`));
  if (report.onlyAfter.length) lines.push(...wrap(`only after: ${someOf(report.onlyAfter, wide)}`));
  return lines.join('\n') + '\n';
}
