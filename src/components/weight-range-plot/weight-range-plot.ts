import { html, nothing } from 'lit';
import { channelLabel } from '../../analysis/recurrent.js';
import type { LayerReport } from '../../report/stats-report.js';
import { channelCount, channelRows, clampDomain, type ChannelDomain } from '../../plot/channels.js';
import { formatNumber, formatSpan } from '../../plot/format.js';
import { WEIGHT_RANGE_MARKS, weightRangePlot, weightRangeText } from '../../plot/weight-ranges.js';
import { modelGrid, type ModelGrid } from '../../plot/model-quantization.js';
import { LayerViewElement } from '../layer-view-element.js';
import { Brush } from '../shared/brush.js';
import { ChannelReadout } from '../shared/channel-readout.js';
import { ChartCache, markParts, renderChart, type Chart } from '../shared/chart.js';
import { DataTable } from '../shared/data-table.js';
import { layerHeader } from '../shared/layer-header.js';
import { chartStyles, headerStyles, themeStyles } from '../shared/theme.styles.js';
import { styles } from './weight-range-plot.styles.js';

/** Rows of the data table shown at most; zoom in to read the others. */
const MAX_TABLE_ROWS = 2000;

/**
 * AIMET's "Weight Ranges per Output Channel" for one layer of a model: per output channel a rule from
 * the smallest to the largest weight and the mean as a dot; outlier channels (relative range above the
 * layer's Tukey fence) in the outlier colour, their means as triangles; dead channels (range at most 1e-4
 * of the layer's largest: harmless for weight quantization) as a cross. Hover the plot, or focus it and
 * use ←/→ (PageUp/PageDown: 10 channels, Home/End), to read a channel's min, max, mean and std; drag
 * across the plot, or type a channel span, to zoom. With more than 2,000 channels in view (a vocabulary's
 * embedding) the ranges are drawn per bucket of neighbouring channels, each bucket its channels' smallest
 * minimum and largest maximum, so no extreme is hidden; zoom in to see single channels. Follows the layer selected on its model (e.g. by a
 * `<layer-table>` bound to the same model). For a quantized model (QDQ, QOperator, onnxruntime's
 * MatMulNBits and GatherBlockQuantized), the range the model's own scales and zero points can represent in
 * each channel (the envelope of its blocks) is drawn behind the weights, and the readout and table give the
 * model's scale beside the one weightlens would choose.
 *
 * @tag weight-range-plot
 *
 * @event wl-load - The model's results are ready: `detail.report`.
 * @event wl-progress - Loading advanced: `detail.fraction` (0..1, never decreasing) and `detail.text`.
 * @event wl-error - Loading failed: `detail.error` (a WeightlensError naming the file).
 *
 * @csspart base - The element's wrapper.
 * @csspart header - The layer's name, op, shape and the key to the marks.
 * @csspart notes - What the reader noted about the layer (e.g. a quantized bias left out, and why).
 * @csspart plot - The focusable chart area (hover, drag to zoom, arrow keys to read channels).
 * @csspart chart - The chart's SVG.
 * @csspart ranges - The min-to-max rules of ordinary channels.
 * @csspart means - The mean dots of ordinary channels.
 * @csspart outlier-ranges - The min-to-max rules of outlier channels.
 * @csspart outlier-means - The mean triangles of outlier channels.
 * @csspart dead-channels - The crosses marking dead channels (range at most 1e-4 of the layer's largest).
 * @csspart model-range - Quantized models: the lowest and highest value the model's own scale represents per channel.
 * @csspart cursor - The line marking the channel being read.
 * @csspart brush - The span being dragged out to zoom.
 * @csspart readout - The read channel's figures (an aria-live region).
 * @csspart zoom - The zoom controls.
 * @csspart zoom-from - The first channel shown.
 * @csspart zoom-to - The last channel shown.
 * @csspart zoom-reset - The button showing every channel again.
 * @csspart table - The `<details>` holding the data table (the chart's text alternative).
 * @csspart status - The loading, empty or error message.
 * @csspart progress - The loading progress bar.
 *
 * @cssproperty [--wl-border-color=#d0d7de] - Borders and table rules (dark: #3d444d).
 * @cssproperty [--wl-accent-color=#0969da] - Focus ring, progress and zoom brush (dark: #4493f8).
 * @cssproperty [--wl-range-color=#3f6fc6] - Channel range rules (dark: #79a6f2).
 * @cssproperty [--wl-mean-color=#1d2b44] - Channel mean dots (dark: #f0f6fc).
 * @cssproperty [--wl-outlier-color=#c8341e] - Outlier channels (dark: #ff7b63).
 * @cssproperty [--wl-dead-color=#8c959f] - Dead channels (dark: #6e7681).
 * @cssproperty [--wl-model-range-color=#8250df] - Quantized models: the model's own range per channel (dark: #a371f7).
 * @cssproperty [--wl-table-max-height=20em] - Height of the data table before it scrolls.
 */
export class WeightRangePlot extends LayerViewElement {
  static override styles = [themeStyles, headerStyles, chartStyles, styles];

  static override properties = {
    height: { type: Number },
  };

  /** Height of the chart in pixels (it always fills the container's width). */
  declare height: number;

  private readonly charts = new ChartCache();
  private readonly readout = new ChannelReadout<LayerReport>(this);
  private readonly brush = new Brush(this, {
    valueAt: (e) => this.readout.indexAt(e),
    isZoom: (from, to) => from !== to,
    zoom: (span) => (this.zoom = span),
    pad: 0.5,
  });
  private readonly table = new DataTable(this);
  /** The zoomed span and the layer it was set on: another layer (or model) starts unzoomed. */
  private zoomed: { layer: LayerReport | undefined; span: ChannelDomain } | undefined;
  private shownLayer: LayerReport | undefined;

  constructor() {
    super();
    this.height = 320;
  }

  /** The channel span shown, `[first, last]` inclusive; null shows every channel. */
  get zoom(): ChannelDomain | null {
    return this.zoomed?.span ?? null;
  }

  set zoom(span: ChannelDomain | null) {
    this.zoomed = span
      ? { layer: this.shownLayer, span: [Math.min(span[0], span[1]), Math.max(span[0], span[1])] }
      : undefined;
    this.requestUpdate();
  }

  override render() {
    const shown = this.layerToDraw();
    if ('instead' in shown) return shown.instead;
    const { layer } = shown;
    this.shownLayer = layer;
    if (this.zoomed) this.zoomed.layer ??= layer;
    if (channelCount(layer) === 0)
      return html`<div part="base">${layerHeader(layer, [])}${this.renderProblem(`${layer.name} has no channels`)}</div>`;
    const domain = clampDomain(layer, this.zoomed?.layer === layer ? this.zoomed.span : null);
    const chart = this.chartFor(layer, domain);
    this.readout.show(layer, domain, chart);
    const label = `Weight ranges of ${layer.name}, channels ${formatSpan(domain)}. Arrow keys read one channel at a time.`;
    return html`<div part="base">
      ${layerHeader(layer, modelGrid(layer) ? ['range', 'mean', 'outlier', 'dead', 'model-range'] : ['range', 'mean', 'outlier', 'dead'])}
      ${this.readout.plot(label, chart, this.brush)}
      ${this.readout.readout(
        (c) => readoutText(layer, c),
        'Hover the plot, or focus it and press ← →, to read a channel. Drag across it to zoom.',
      )}
      ${this.renderZoom(layer, domain)} ${this.renderTable(layer, domain)}
    </div>`;
  }

  private chartFor(layer: LayerReport, domain: ChannelDomain): Chart {
    const width = this.width.value;
    return this.charts.get(`${width}|${this.height}|${domain.join('-')}`, layer, () =>
      renderChart(
        weightRangePlot(layer, { width, height: this.height, domain }),
        weightRangeText(layer, domain),
        'chart',
        markParts(WEIGHT_RANGE_MARKS),
      ),
    );
  }

  private renderZoom(layer: LayerReport, [lo, hi]: ChannelDomain) {
    const last = channelCount(layer) - 1;
    const zoomed = lo > 0 || hi < last;
    const set = (which: 0 | 1) => (e: Event) => {
      const value = Number((e.target as HTMLInputElement).value);
      const span: [number, number] = which === 0 ? [value, hi] : [lo, value];
      const next = clampDomain(layer, span);
      this.zoom = next[0] === 0 && next[1] === last ? null : next;
    };
    return html`<div part="zoom" class="zoom" role="group" aria-label="Zoom to channels">
      <label>From channel <input part="zoom-from" type="number" min="0" max=${last} .value=${String(lo)} @change=${set(0)} /></label>
      <label>to <input part="zoom-to" type="number" min="0" max=${last} .value=${String(hi)} @change=${set(1)} /></label>
      <button part="zoom-reset" type="button" ?disabled=${!zoomed} @click=${() => (this.zoom = null)}>Show all ${last + 1} channels</button>
    </div>`;
  }

  private renderTable(layer: LayerReport, domain: ChannelDomain) {
    const grid = modelGrid(layer);
    return this.table.render({
      part: 'table',
      summary: `Data table: channels ${formatSpan(domain)}`,
      label: `Channel statistics of ${layer.name}`,
      caption: `Per-channel weight statistics of ${layer.name}`,
      head: html`<tr><th scope="col">Channel</th><th scope="col">Min</th><th scope="col">Max</th><th scope="col">Mean</th><th scope="col">Std</th><th scope="col">Relative range</th><th scope="col">Outlier</th>${
        grid
          ? html`<th scope="col">Model's scale</th><th scope="col">Model's zero point</th><th scope="col">Model's range</th><th scope="col">Our scale (${grid.ours})</th>`
          : nothing
      }</tr>`,
      rows: () => channelRows(layer, domain),
      row: (r) => html`<tr>
        <th scope="row">${r.channel}</th><td>${formatNumber(r.min)}</td><td>${formatNumber(r.max)}</td><td>${formatNumber(r.mean)}</td>
        <td>${formatNumber(r.std)}</td><td>${r.dead ? 'dead' : formatNumber(r.relativeRange)}</td><td>${r.outlier ? 'yes' : ''}</td>${grid ? modelCells(grid, r.channel) : nothing}
      </tr>`,
      limit: {
        rows: MAX_TABLE_ROWS,
        note: (shown, total) => `First ${shown} of ${total} channels: zoom in to see the others.`,
      },
    });
  }
}

/** A channel's figures: min, max, mean, std, whether it is an outlier or dead, and the model's own scale. */
function readoutText(layer: LayerReport, c: number) {
  const [row] = channelRows(layer, [c, c]);
  const grid = modelGrid(layer);
  return html`<strong>${channelLabel(layer, c)}</strong>: min ${formatNumber(row!.min)}, max ${formatNumber(row!.max)},
    mean ${formatNumber(row!.mean)}, std ${formatNumber(row!.std)}${
      row!.outlier
        ? html` — <span class="outlier">outlier</span>, relative range ${formatNumber(row!.relativeRange)}`
        : row!.dead
          ? html` — <span class="dead">dead</span>: its range is at most 1e-4 of the layer's largest; harmless for weight quantization`
          : nothing
    }${grid ? html`<br />${modelScaleLine(grid, c)}` : nothing}`;
}

/** "Model: int8 scale s, zero point z → [lo, hi]; ours (INT8 symmetric per-channel): s'" for channel c. */
function modelScaleLine(grid: ModelGrid, c: number) {
  const g = grid.channels[c]!;
  const scale =
    g.scale === null
      ? `${grid.granularity}: several scales`
      : `scale ${formatNumber(g.scale)}, zero point ${g.zeroPoint}`;
  return html`<span class="model-scale">Model (${grid.dtype}): ${scale} → represents ${formatNumber(g.lo)} to ${formatNumber(g.hi)};
    ours (${grid.ours}): scale ${formatNumber(g.ours)}</span>`;
}

function modelCells(grid: ModelGrid, c: number) {
  const g = grid.channels[c]!;
  return html`<td>${g.scale === null ? 'several' : formatNumber(g.scale)}</td><td>${g.zeroPoint ?? 'several'}</td>
    <td>${formatNumber(g.lo)} to ${formatNumber(g.hi)}</td><td>${formatNumber(g.ours)}</td>`;
}

declare global {
  interface HTMLElementTagNameMap {
    'weight-range-plot': WeightRangePlot;
  }
}
