// The human form of `weightlens audit`: one line per quantized layer, worst first (least int32 bias headroom,
// then most saturated channel), with its codes' saturation and grid levels, bad scales, bias headroom and,
// with --float, the SQNR and clipping against the float model.
import { BIAS_RISK_BITS, worstAuditsFirst, type AuditReport, type LayerAudit } from '../report/audit-report.js';
import { plural } from '../text/plural.js';
import { layoutTable, wrap } from './text-layout.js';

/** A share as a percentage: "0", "<0.01", or two decimals. */
export function percent(share: number): string {
  if (share === 0) return '0';
  const p = share * 100;
  return p < 0.01 ? '<0.01' : p.toFixed(2);
}

const grid = (l: LayerAudit) =>
  `${l.dtype} ${l.mode === 'tensor' ? 'tensor' : l.mode === 'axis' ? `axis ${l.axis}` : `block ${l.blockSize}`}${l.range.restricted ? ' ±' + l.range.qmax : ''}`;

function scaleIssues(l: LayerAudit): string {
  if (!l.scales) return 'none';
  const s = l.scales;
  const issues = [
    s.zero && `${s.zero} zero`,
    s.denormal && `${s.denormal} denormal`,
    s.negative && `${s.negative} negative`,
    s.nonFinite && `${s.nonFinite} non-finite`,
  ].filter(Boolean);
  return issues.length ? issues.join(', ') : 'ok';
}

function biasCell(l: LayerAudit): string {
  const b = l.bias;
  if (!b) return '-';
  if (b.status === 'unknown') return 'unknown';
  if (b.minHeadroomBits === null) return 'zero';
  const text = b.minHeadroomBits.toFixed(1);
  return b.overflow > 0 ? `${text} (${b.overflow} over)` : b.minHeadroomBits < BIAS_RISK_BITS ? `${text} !` : text;
}

export function formatAuditSummary(report: AuditReport, { wide = false } = {}): string {
  const lines: string[] = [
    ...wrap(
      `${report.file}: ${plural(report.layers.length, 'quantized layer')}${report.float ? `, compared with ${report.float}` : ''}`,
    ),
  ];
  const layers = report.layers;
  const count = (test: (l: LayerAudit) => boolean) => layers.filter(test).length;
  const badScales = count((l) => scaleIssues(l) !== 'ok' && scaleIssues(l) !== 'none');
  const risky = count((l) => (l.bias?.overflow ?? 0) > 0 || (l.bias?.minHeadroomBits ?? Infinity) < BIAS_RISK_BITS);
  const unknown = count((l) => l.bias?.status === 'unknown');
  const saturated = count((l) => l.saturation.share > 0);
  if (layers.length > 0) {
    lines.push(
      `saturated codes in ${plural(saturated, 'layer')}; zero, denormal, negative or non-finite scales in ${plural(badScales, 'layer')}; ` +
        `int32 bias headroom under ${BIAS_RISK_BITS} bits in ${plural(risky, 'layer')}` +
        (unknown ? ` (unknown in ${unknown}: no constant input scale)` : ''),
    );
    lines.push('');
    const withFloat = report.float !== null;
    const rows = worstAuditsFirst(layers).map((l) => [
      l.name,
      l.format,
      grid(l),
      percent(l.saturation.share),
      percent(l.saturation.worstChannelShare),
      l.levels.used === null ? '-' : `${l.levels.used}/${l.levels.of}`,
      scaleIssues(l),
      biasCell(l),
      ...(withFloat
        ? [
            l.float?.sqnr === null || l.float?.sqnr === undefined ? 'exact' : l.float.sqnr.toFixed(2),
            l.float ? percent(l.float.clipped / l.elements) : '-',
          ]
        : []),
    ]);
    lines.push(
      ...layoutTable(
        [
          { header: 'layer', numeric: false, shrink: { min: 16, keepEnd: true } },
          { header: 'format', numeric: false },
          { header: 'codes', numeric: false },
          { header: 'sat %', numeric: true },
          { header: 'worst ch %', numeric: true },
          { header: 'levels', numeric: true },
          { header: 'scales', numeric: false, shrink: { min: 8, keepEnd: false } },
          { header: 'bias bits', numeric: true },
          ...(withFloat
            ? [
                { header: 'SQNR dB', numeric: true },
                { header: 'clipped %', numeric: true },
              ]
            : []),
        ],
        rows,
        wide,
        '  ',
      ),
    );
    lines.push(
      '',
      ...wrap(
        'sat %: codes at qmin or qmax of the layer (worst ch %: of its most saturated channel); levels: distinct codes ' +
          'used of 2^bits; bias bits: log2(2^31 / |int32 bias code|), least over channels' +
          (withFloat ? '; clipped %: float weights more than half a step outside the representable range' : ''),
      ),
    );
  }
  if (layers.length === 0)
    lines.push(
      ...wrap(
        'no weight is stored as integer codes (QDQ, QOperator, MatMulNBits, GatherBlockQuantized): nothing to audit ' +
          '(weightlens stats estimates what quantizing a float model would cost)',
      ),
    );
  if (report.skipped.length > 0) {
    lines.push('', `not audited (${report.skipped.length}):`);
    for (const s of report.skipped) lines.push(...wrap(`  ${s.name}: ${s.reason}`));
  }
  return lines.join('\n') + '\n';
}
