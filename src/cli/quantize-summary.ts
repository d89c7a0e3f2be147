// The human form of `weightlens quantize`: each quantized layer's scheme, stored-weight SQNR and size, the
// layers kept float and why, and the model's size before and after.
import type { VerifyReport } from '../node/verify-quantized.js';
import type { ExpectedInputSource } from '../quant/bias-correction.js';
import type { QuantizeReport } from '../pipeline/quantize-model.js';
import { megabytes } from '../text/megabytes.js';
import { plural } from '../text/plural.js';
import { layoutTable, wrap } from './text-layout.js';

export function formatQuantizeSummary(
  report: QuantizeReport & { verify?: VerifyReport },
  output: string,
  { wide = false } = {},
): string {
  const lines: string[] = [...wrap(`${report.file} -> ${output}`), ''];
  const before = report.layers.reduce((n, l) => n + l.bytes.before, 0);
  const after = report.layers.reduce((n, l) => n + l.bytes.after, 0);
  lines.push(
    `quantized ${plural(report.layers.length, 'layer')}: weights ${megabytes(before)} MB -> ${megabytes(after)} MB` +
      (report.opset.after !== report.opset.before ? ` (opset ${report.opset.before} -> ${report.opset.after})` : ''),
  );
  const planner = report.planner;
  if (planner) {
    const b = planner.budget;
    const asked =
      'sqnrFloor' in b
        ? `every layer ≥ ${b.sqnrFloor} dB`
        : 'bytes' in b
          ? `${megabytes(b.bytes)} MB of weights`
          : `${b.bitsPerWeight} bits per weight`;
    const worst = (v: number) => (v === Infinity ? 'exact' : `${v.toFixed(1)} dB`);
    lines.push(
      '',
      ...wrap(
        `planner (${asked}): ${megabytes(planner.chosen.bytes)} MB of weights (float: ${megabytes(planner.floatBytes)} MB), worst layer ${worst(planner.chosen.worstSqnr)} (min-max SQNR as stats measures it)`,
      ),
    );
    const within = planner.uniform
      .filter((u) => u.bytes <= planner.chosen.bytes)
      .sort((a, b) => b.worstSqnr - a.worstSqnr)[0];
    if (within)
      lines.push(...wrap(`  best single scheme no larger: ${within.scheme}, worst layer ${worst(within.worstSqnr)}`));
  }
  if (report.layers.length > 0) {
    lines.push('');
    const dB = (v: number | null) => (v === null ? 'exact' : v.toFixed(1));
    // A fix (clipping search, HQQ) shows what min-max would have stored beside what it stored.
    const fixed = report.layers.some((l) => l.scheme.method && l.scheme.method !== 'min-max');
    const rows = report.layers.map((l) => [l.name, l.schemeName, ...(fixed ? [dB(l.minMaxSqnr)] : []), dB(l.sqnr)]);
    lines.push(
      ...layoutTable(
        [
          { header: 'layer', numeric: false, shrink: { min: 16, keepEnd: true } },
          { header: 'scheme', numeric: false },
          ...(fixed ? [{ header: 'min-max dB', numeric: true }] : []),
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
            `(E[x] ${expectedFrom(l.expectedInput)})`,
          '    ',
        ),
      );
    if (bc.skipped.length > 0) lines.push(`  not corrected (${bc.skipped.length}):`);
    for (const s of bc.skipped) lines.push(...wrap(`    ${s.name}: ${s.reason}`, '      '));
  }
  if (report.verify) {
    const v = report.verify;
    const shapes = Object.entries(v.inputs)
      .map(([n, d]) => `${n} [${d.join(', ')}]`)
      .join(', ');
    const sqnr = v.outputSqnr === null ? 'outputs identical' : `${v.outputSqnr.toFixed(1)} dB`;
    const asLogits = Object.entries(v.outputs).filter(([, how]) => how !== 'values');
    const compared = asLogits.length
      ? `; compared as logits: ${asLogits.map(([n, how]) => `${n} ${how}`).join(', ')}`
      : '';
    lines.push(
      '',
      ...wrap(
        `output SQNR against the float model, a proxy, not accuracy: ${sqnr} (onnxruntime, ${v.runs} seeded input sets: ${shapes}; ${v.inputsDrawn}${compared})`,
      ),
    );
  }
  if (report.kept.length > 0) {
    lines.push('', `kept float (${report.kept.length}):`);
    for (const k of report.kept) lines.push(...wrap(`  ${k.name}: ${k.reason}`));
  }
  return lines.join('\n') + '\n';
}

/** e.g. `from BatchNormalization "bn1", Relu` or `propagated over 12 nodes from the model input`. */
function expectedFrom(source: ExpectedInputSource): string {
  if (source.kind === 'batchnorm')
    return `from BatchNormalization "${source.batchNorm}"${source.activation === 'none' ? '' : `, ${source.activation}`}`;
  return `propagated over ${plural(source.nodes, 'node')} from ${source.origin}`;
}
