// The human form of `weightlens stats --compress`: per layer, the ratio each method reaches within the chosen
// weight error, the ranks behind the factorizations and the INT8/INT4 errors for reference; layers ranked by
// the parameters they would save, and the model's total at that error.
import { bestRatioWithin, type CompressionPoint } from '../analysis/compression.js';
import { rankedBySaving } from '../report/compress-choice.js';
import type { CompressReport } from '../report/compress-report.js';
import { plural } from '../text/plural.js';
import { layoutTable, wrap } from './text-layout.js';

const ratioAt = (curve: readonly CompressionPoint[] | null, error: number) => {
  if (!curve) return '-';
  const p = bestRatioWithin(curve, error);
  return p && p.ratio > 1 ? `${p.ratio.toFixed(2)}x` : '1x';
};
const percent = (v: number | null) => (v === null ? '-' : `${(v * 100).toPrecision(3)}%`);

export function formatCompressSummary(report: CompressReport, { wide = false } = {}): string {
  const e = report.error;
  const rows = rankedBySaving(report.layers).map((l) => [
    l.name,
    l.shape.join('x'),
    l.weightSvd ? `${l.weightSvd.rank99} / ${l.weightSvd.effectiveRank.toFixed(1)}` : '-',
    ratioAt(l.weightSvd?.curve ?? null, e),
    ratioAt(l.spatialSvd?.curve ?? null, e),
    ratioAt(l.pruning, e),
    ratioAt(l.channelPruning, e),
    percent(l.int8Error),
    percent(l.int4Error),
    l.best.method ? `${l.best.method} ${l.best.ratio.toFixed(2)}x` : 'keep',
  ]);
  const { before, after } = report.parameters;
  const lines = [
    ...wrap(
      `${report.file}: ${plural(report.layers.length, 'weight layer')}; within ${percent(e)} relative weight error ` +
        `(weight space, not accuracy) the best choice per layer takes ${before} parameters to ${after} ` +
        `(${before && after ? (before / after).toFixed(2) : '1.00'}x)`,
    ),
    '',
    ...layoutTable(
      [
        { header: 'layer', numeric: false, shrink: { min: 24, keepEnd: true } },
        { header: 'shape', numeric: false, shrink: { min: 12, keepEnd: false } },
        { header: 'rank99 / eff.', numeric: true },
        { header: 'W-SVD', numeric: true },
        { header: 'S-SVD', numeric: true },
        { header: 'prune', numeric: true },
        { header: 'channels', numeric: true },
        { header: 'INT8 err', numeric: true },
        { header: 'INT4 err', numeric: true },
        { header: 'best', numeric: false },
      ],
      rows,
      wide,
    ),
    '',
    ...wrap(
      `Ratios: parameters before / after at the largest compression within ${percent(e)} error ‖W − Ŵ‖/‖W‖ ` +
        '(W-SVD: [Cout, Cin·kh·kw] at rank k, two layers; S-SVD: [Cout·kh, Cin·kw], a kh×1 and a 1×kw Conv; ' +
        'prune: smallest |w| zeroed, indices not counted; channels: input channels of least L1 removed). ' +
        'rank99: the rank keeping 99 % of Σσ²; eff.: effective rank. Layers sorted by parameters saved.',
    ),
  ];
  const notes = report.layers.filter((l) => l.notes.length > 0);
  if (notes.length > 0 && wide) for (const l of notes) lines.push(...wrap(`${l.name}: ${l.notes.join('; ')}`));
  else if (notes.length > 0) lines.push(`${plural(notes.length, 'layer')} with figures left out (--wide says why)`);
  return lines.join('\n') + '\n';
}
