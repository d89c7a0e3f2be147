// The human form of `weightlens cle`: what was folded, equalized, skipped and absorbed, and each layer's
// largest relative range and INT8 per-tensor SQNR before -> after. Lines within LINE_BUDGET unless `wide`.
import type { CleReport, CleRounding } from '../report/cle-report.js';
import { roundingFacts } from '../report/cle-rounding.js';
import { shortNumber } from '../report/short-number.js';
import type { LayerReport } from '../report/stats-report.js';
import { rankingSqnr } from '../report/worst-layers.js';
import { layoutTable, wrap } from './text-layout.js';
import { plural } from '../text/plural.js';

const sqnr = (l: LayerReport) => {
  const v = rankingSqnr(l);
  return v === undefined ? 'n/a' : v === null ? 'exact' : v.toFixed(1);
};

/** float16/bfloat16 models: how much writing the equalized weights back in their type changed them. */
function roundingLine(rounding: CleRounding): string {
  const { dtypes, worst, layer } = roundingFacts(rounding);
  return (
    `${dtypes} re-rounding: storing the equalized weights changed them by up to ${worst} (‖stored − exact‖ / ‖exact‖), ` +
    `most in ${layer}; the figures after CLE are of the stored weights`
  );
}

export function formatCleSummary(report: CleReport, output: string, { wide = false } = {}): string {
  const lines: string[] = [...wrap(`${report.file} -> ${output}`), ''];
  lines.push(`folded ${plural(report.folded.length, 'BatchNormalization')} into the layer before them`);
  const pairs = report.sets.filter((s) => s.kind === 'pair').length;
  const triplets = report.sets.length - pairs;
  const sweeps = report.chains.map((c) => c.sweeps);
  lines.push(
    `equalized ${plural(pairs, 'pair')} and ${plural(triplets, 'Conv→DW→Conv triplet')} in ${plural(report.chains.length, 'chain')}` +
      (sweeps.length ? ` (sweeps per chain: ${Math.min(...sweeps)}–${Math.max(...sweeps)})` : ''),
  );
  if (report.relu6Rewritten.length)
    lines.push(`rewrote ${plural(report.relu6Rewritten.length, 'Clip(0, 6)')} to Relu (--relu6-to-relu)`);
  lines.push(
    report.options.biasAbsorption
      ? `high-bias absorption: ${plural(report.biasAbsorbed.length, 'layer pair')}`
      : 'high-bias absorption: off (--no-bias-absorption)',
  );
  if (report.rounding) lines.push(...wrap(roundingLine(report.rounding)));
  if (report.skipped.length) {
    lines.push('', `skipped ${plural(report.skipped.length, 'candidate')}:`);
    for (const s of report.skipped) lines.push(...(wide ? [`  ${s.reason}`] : wrap(`  ${s.reason}`, '    ')));
  }
  const changed = report.layers.filter(
    (l) => shortNumber(l.before.maxRelativeRange) !== shortNumber(l.after.maxRelativeRange),
  );
  lines.push(
    '',
    ...wrap(
      `largest relative range and INT8 per-tensor SQNR (dB) per layer, before -> after (${changed.length} of ${plural(report.layers.length, 'layer')} changed):`,
    ),
  );
  const columns = [
    { header: 'layer', numeric: false, shrink: { min: 16, keepEnd: true } },
    { header: 'rel range', numeric: true },
    { header: '', numeric: false },
    { header: '', numeric: true },
    { header: 'SQNR', numeric: true },
    { header: '', numeric: false },
    { header: '', numeric: true },
  ];
  const rows = report.layers.map((l) => [
    l.name,
    shortNumber(l.before.maxRelativeRange),
    '->',
    shortNumber(l.after.maxRelativeRange),
    sqnr(l.before),
    '->',
    sqnr(l.after),
  ]);
  lines.push(...layoutTable(columns, rows, wide, '  '));
  return lines.join('\n') + '\n';
}
