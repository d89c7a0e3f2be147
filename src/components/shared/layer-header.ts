// The line above a layer's charts: its name, op and shape, and a key to the marks.
import { html, svg, nothing } from 'lit';
import type { LayerReport, ModelQuantization } from '../../report/stats-report.js';
import { deadChannelNote } from '../../report/dead-channels.js';
import { plural } from '../../text/plural.js';

export function opLabel(layer: LayerReport): string {
  if (layer.recurrent) return `${layer.op} ${layer.recurrent.input}`;
  if (layer.depthwise) return `${layer.op} (depthwise)`;
  if (layer.groups > 1) return `${layer.op} (groups ${layer.groups})`;
  return layer.op;
}

export function layerHeader(
  layer: LayerReport,
  keys: readonly ('range' | 'mean' | 'outlier' | 'dot' | 'fence' | 'model-range' | 'dead')[],
) {
  const n = layer.channels.min.length;
  const icon = {
    range: svg`<line x1="6" x2="6" y1="1" y2="13" stroke="var(--_range-color)" stroke-width="3"/>`,
    mean: svg`<circle cx="6" cy="7" r="3" fill="var(--_mean-color)"/>`,
    dot: svg`<circle cx="6" cy="7" r="3" fill="var(--_range-color)"/>`,
    outlier: svg`<path d="M6 2 L11 11 L1 11 Z" fill="var(--_outlier-color)"/>`,
    fence: svg`<line x1="0" x2="12" y1="7" y2="7" stroke="var(--_fence-color)" stroke-width="2" stroke-dasharray="4 2"/>`,
    'model-range': svg`<path d="M1 3 H11 M1 11 H11" stroke="var(--_model-range-color)" stroke-width="1.5"/>`,
    dead: svg`<path d="M2 3 L10 11 M10 3 L2 11" stroke="var(--_dead-color)" stroke-width="1.5"/>`,
  };
  const text = {
    range: 'min to max',
    mean: 'mean',
    dot: 'relative range',
    outlier: 'outlier channel',
    fence: 'Tukey fence',
    'model-range': "model's range",
    dead: 'dead channel',
  };
  const notes = [deadChannelNote(layer), ...(layer.notes ?? [])].filter((note) => note !== null);
  const shownKeys = keys.filter((k) => k !== 'dead' || layer.deadChannels.length > 0);
  return html`<div part="header" class="header">
    <span class="layer-name">${layer.name}</span>
    <span class="layer-meta">${opLabel(layer)} · [${layer.shape.join('×')}] · ${plural(n, 'channel')} ·
      ${plural(layer.outliers.length, 'outlier')}${
        layer.deadChannels.length ? ` · ${layer.deadChannels.length} dead` : nothing
      }${layer.nonFinite ? html` · ${layer.nonFinite} non-finite` : nothing}${
        layer.modelQuantization
          ? ` · stored ${layer.modelQuantization.dtype}, ${storedAs(layer.modelQuantization)}`
          : nothing
      }</span>
    ${notes.length ? html`<span part="notes" class="layer-notes">${notes.join('. ')}</span>` : nothing}
    <span class="keys" aria-hidden="true">${shownKeys.map(
      (k) => html`<span class="key"><svg width="12" height="14" viewBox="0 0 12 14">${icon[k]}</svg>${text[k]}</span>`,
    )}</span>
  </div>`;
}

/** How a quantized weight's scales are laid out, in a few words. */
function storedAs(q: ModelQuantization): string {
  if (!q.scales) return 'no scale (figures in integer units)';
  if (q.mode === 'tensor') return 'per-tensor scale';
  return q.mode === 'axis'
    ? `per-axis scales (axis ${q.axis})`
    : `blocked scales (${q.blockSize} along axis ${q.axis})`;
}
