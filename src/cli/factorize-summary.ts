// The human form of `weightlens factorize`: what replaced the layer, what it saves and what it costs.
import type { VerifyReport } from '../node/verify-quantized.js';
import type { FactorizeReport } from '../pipeline/factorize-layer.js';
import { wrap } from './text-layout.js';

export function formatFactorizeSummary(report: FactorizeReport & { verify?: VerifyReport }, output: string): string {
  const r = report;
  const how = r.method === 'spatial' ? 'Spatial SVD' : 'Weight SVD';
  const lines = [
    ...wrap(
      `${output}: ${r.layer} (${r.op}) replaced by "${r.nodes[0]}" and "${r.nodes[1]}": ${how} of its ` +
        `[${r.matrix.join(', ')}] matrix at rank ${r.rank} of ${r.maxRank}; ${r.parameters.before} weights -> ` +
        `${r.parameters.after} (${(r.parameters.before / r.parameters.after).toFixed(2)}x); relative weight error ` +
        `${(r.error * 100).toPrecision(3)}% (weight space, not accuracy)`,
    ),
  ];
  if (r.verify) {
    const v = r.verify;
    const sqnr = v.outputSqnr === null ? 'outputs identical' : `${v.outputSqnr.toFixed(1)} dB`;
    lines.push(
      ...wrap(
        `output SQNR against the original model, a proxy, not accuracy: ${sqnr} (onnxruntime, ${v.runs} seeded input sets; ${v.inputsDrawn})`,
      ),
    );
  }
  return lines.join('\n') + '\n';
}
