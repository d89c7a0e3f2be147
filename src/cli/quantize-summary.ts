// The human form of `weightlens quantize`: each quantized layer's scheme, stored-weight SQNR and size, the
// layers kept float and why, and the model's size before and after.
import type { QuantizeReport } from '../pipeline/quantize-model.js';
import { megabytes } from '../text/megabytes.js';
import { plural } from '../text/plural.js';
import { layoutTable, wrap } from './text-layout.js';

export function formatQuantizeSummary(report: QuantizeReport, output: string, { wide = false } = {}): string {
  const lines: string[] = [...wrap(`${report.file} -> ${output}`), ''];
  const before = report.layers.reduce((n, l) => n + l.bytes.before, 0);
  const after = report.layers.reduce((n, l) => n + l.bytes.after, 0);
  lines.push(
    `quantized ${plural(report.layers.length, 'layer')}: weights ${megabytes(before)} MB -> ${megabytes(after)} MB` +
      (report.opset.after !== report.opset.before ? ` (opset ${report.opset.before} -> ${report.opset.after})` : ''),
  );
  if (report.layers.length > 0) {
    lines.push('');
    const rows = report.layers.map((l) => [l.name, l.schemeName, l.sqnr === null ? 'exact' : l.sqnr.toFixed(1)]);
    lines.push(
      ...layoutTable(
        [
          { header: 'layer', numeric: false, shrink: { min: 16, keepEnd: true } },
          { header: 'scheme', numeric: false },
          { header: 'SQNR dB', numeric: true },
        ],
        rows,
        wide,
        '  ',
      ),
    );
  }
  const bc = report.biasCorrection;
  if (bc) {
    lines.push('', `bias correction: ${plural(bc.layers.length, 'layer')} corrected`);
    for (const l of bc.layers)
      lines.push(
        ...wrap(
          `  ${l.name}: ‖Δb‖ ${l.delta.toPrecision(3)}${l.newBias ? ' (new bias)' : ''}, mean output shift ` +
            `${l.meanShift.before.toPrecision(3)} -> ${l.meanShift.after.toPrecision(3)} ` +
            `(E[x] from ${l.batchNorm}${l.activation === 'none' ? '' : `, ${l.activation}`})`,
          '    ',
        ),
      );
    if (bc.skipped.length > 0) lines.push(`  not corrected (${bc.skipped.length}):`);
    for (const s of bc.skipped) lines.push(...wrap(`    ${s.name}: ${s.reason}`, '      '));
  }
  if (report.kept.length > 0) {
    lines.push('', `kept float (${report.kept.length}):`);
    for (const k of report.kept) lines.push(...wrap(`  ${k.name}: ${k.reason}`));
  }
  return lines.join('\n') + '\n';
}
