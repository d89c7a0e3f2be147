// The human form of `weightlens cle`: what was folded, equalized, skipped and absorbed, and each layer's
// largest relative range before -> after.
import type { CleReport, CleRounding } from '../report/cle-report.js';
import { roundingFacts } from '../report/cle-rounding.js';
import type { LayerReport } from '../report/stats-report.js';

const rel = (l: LayerReport) => (l.minRange === 0 ? 'inf' : l.maxRelativeRange === null ? '-' : l.maxRelativeRange.toFixed(1));
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** float16/bfloat16 models: how much writing the equalized weights back in their type changed them. */
function roundingLine(rounding: CleRounding): string {
  const { dtypes, worst, layer } = roundingFacts(rounding);
  return `${dtypes} re-rounding: storing the equalized weights changed them by up to ${worst} (‖stored − exact‖ / ‖exact‖),\n` +
    `  most in ${layer}; the figures after CLE are of the stored weights`;
}

export function formatCleSummary(report: CleReport, output: string): string {
  const lines: string[] = [`${report.file} -> ${output}`, ''];
  lines.push(`folded ${plural(report.folded.length, 'BatchNormalization')} into the layer before them`);
  const pairs = report.sets.filter((s) => s.kind === 'pair').length;
  const triplets = report.sets.length - pairs;
  const sweeps = report.chains.map((c) => c.sweeps);
  lines.push(
    `equalized ${plural(pairs, 'pair')} and ${plural(triplets, 'Conv→DW→Conv triplet')} in ${plural(report.chains.length, 'chain')}` +
      (sweeps.length ? ` (sweeps per chain: ${Math.min(...sweeps)}–${Math.max(...sweeps)})` : ''),
  );
  if (report.relu6Rewritten.length) lines.push(`rewrote ${plural(report.relu6Rewritten.length, 'Clip(0, 6)')} to Relu (--relu6-to-relu)`);
  lines.push(
    report.options.biasAbsorption
      ? `high-bias absorption: ${plural(report.biasAbsorbed.length, 'layer pair')}`
      : 'high-bias absorption: off (--no-bias-absorption)',
  );
  if (report.rounding) lines.push(roundingLine(report.rounding));
  if (report.skipped.length) {
    lines.push('', `skipped ${plural(report.skipped.length, 'candidate')}:`);
    for (const s of report.skipped) lines.push(`  ${s.reason}`);
  }
  const changed = report.layers.filter((l) => rel(l.before) !== rel(l.after));
  lines.push('', `largest relative range per layer, before -> after (${changed.length} of ${report.layers.length} layers changed):`);
  const width = Math.max(5, ...report.layers.map((l) => l.name.length));
  for (const l of report.layers) {
    lines.push(`  ${l.name.padEnd(width)}  ${rel(l.before).padStart(9)} -> ${rel(l.after).padStart(9)}`);
  }
  return lines.join('\n') + '\n';
}
