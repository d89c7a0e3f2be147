// What CLE did, at the top of <cle-compare>: BatchNorms folded, sets and chains equalized, bias absorbed,
// Relu6 rewrites, rounding back to float16/bfloat16, layers improved, candidates skipped and why.
import { html, nothing, type TemplateResult } from 'lit';
import type { CleReport, CleRounding } from '../../report/cle-report.js';
import { roundingFacts } from '../../report/cle-rounding.js';
import { cleLayerRows } from '../../plot/cle-layers.js';
import { plural } from '../../text/plural.js';
import { int8PerTensor } from '../shared/layer-change-view.js';

/** The summary section; `download` is the download row (cle-download.ts). */
export function renderFacts(report: CleReport, download: TemplateResult): TemplateResult {
  const pairs = report.sets.filter((s) => s.kind === 'pair').length;
  const triplets = report.sets.length - pairs;
  const sweeps = report.chains.map((c) => c.sweeps);
  const rows = cleLayerRows(report);
  const improved = rows.filter((r) => r.changed && r.before !== null && r.after !== null && r.after < r.before).length;
  const folded = report.folded.map((f) => `${f.batchNorm} → ${f.into}`).join(', ');
  return html`<section part="summary" class="summary" aria-label="What CLE did">
    <ul part="facts" class="facts">
      <li title=${folded || nothing}>Folded <strong>${plural(report.folded.length, 'BatchNormalization')}</strong></li>
      <li>Equalized <strong>${plural(pairs, 'pair')}</strong> and <strong>${plural(triplets, 'Conv→DW→Conv triplet')}</strong>
        in ${plural(report.chains.length, 'chain')}${
          sweeps.length
            ? ` (${Math.min(...sweeps) === Math.max(...sweeps) ? plural(sweeps[0]!, 'sweep') : `${Math.min(...sweeps)}–${Math.max(...sweeps)} sweeps`} each)`
            : ''
        }</li>
      <li>${
        report.options.biasAbsorption
          ? html`High-bias absorption: <strong>${plural(report.biasAbsorbed.length, 'layer pair')}</strong>`
          : html`High-bias absorption: <strong>off</strong>`
      }</li>
      ${
        report.options.relu6ToRelu
          ? html`<li class="warning">Rewrote <strong>${plural(report.relu6Rewritten.length, 'Clip(0, 6) node')}</strong> to Relu: this changes the float model</li>`
          : nothing
      }
      ${report.rounding ? roundingFact(report.rounding) : nothing}
      <li>Largest relative range lower in <strong>${improved} of ${plural(rows.length, 'layer')}</strong></li>
      ${sqnrFact(report)}
    </ul>
    ${
      report.skipped.length
        ? html`<details part="skipped" class="skipped">
          <summary>Skipped ${plural(report.skipped.length, 'candidate')}</summary>
          <ul>${report.skipped.map((s) => html`<li><span class="layers">${s.layers.join(' → ')}</span>: ${s.reason}</li>`)}</ul>
        </details>`
        : html`<p part="skipped" class="skipped muted">No candidates skipped.</p>`
    }
    ${download}
  </section>`;
}

/** float16/bfloat16 models: writing the equalized weights back rounds them, which changes the function a little. */
function roundingFact(rounding: CleRounding) {
  const { dtypes, worst, layer } = roundingFacts(rounding);
  return html`<li title="‖stored − exact‖ / ‖exact‖ per layer; the figures after CLE are of the stored weights">
    Rounding back to ${dtypes} changed the equalized weights by up to <strong>${worst}</strong> (${layer})</li>`;
}

/** How CLE moved INT8 symmetric per-tensor SQNR, when the report carries quantization figures. */
function sqnrFact(report: CleReport) {
  const deltas = report.layers.flatMap((l) => {
    const [b, a] = [int8PerTensor(l.before), int8PerTensor(l.after)];
    return typeof b === 'number' && typeof a === 'number' ? [a - b] : [];
  });
  if (deltas.length === 0) return nothing;
  const higher = deltas.filter((d) => d > 0.005).length;
  return html`<li>INT8 per-tensor SQNR higher in <strong>${higher} of ${plural(deltas.length, 'layer')}</strong>${
    Math.max(...deltas) > 0.005 ? ` (up to +${Math.max(...deltas).toFixed(2)} dB)` : ''
  }</li>`;
}
