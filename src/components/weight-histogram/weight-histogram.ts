import { html, nothing, type PropertyValues, type TemplateResult } from 'lit';
import { channelLabel } from '../../analysis/recurrent.js';
import type { WeightlensError } from '../../errors.js';
import type { ModelHandle, ModelStatus } from '../../binding/model-handle.js';
import { formatNumber } from '../../plot/format.js';
import type { QuantBits, QuantScheme } from '../../plot/quant-error.js';
import {
  WEIGHT_HISTOGRAM_MARKS,
  clipText,
  gridText,
  histogramBins,
  overlayLabel,
  quantOverlay,
  selectionText,
  weightHistogramPlot,
  weightHistogramText,
  type CountScale,
  type GridGranularity,
  type HistogramBin,
  type OverlayOptions,
  type QuantOverlay,
} from '../../plot/weight-histogram.js';
import type { LayerReport } from '../../report/stats-report.js';
import { MAX_HISTOGRAM_BINS, needsModelError, type LayerHistogram } from '../../report/weight-histogram.js';
import { LayerViewElement } from '../layer-view-element.js';
import { AnalysisTask } from '../shared/analysis-task.js';
import { Brush } from '../shared/brush.js';
import { ChannelReadout } from '../shared/channel-readout.js';
import { ChartCache, markParts, renderChart, type Chart } from '../shared/chart.js';
import { xValueAt } from '../shared/chart-geometry.js';
import { DataTable } from '../shared/data-table.js';
import { opLabel } from '../shared/layer-header.js';
import { chartStyles, headerStyles, themeStyles } from '../shared/theme.styles.js';
import { histogramControls, zoomControls } from './histogram-controls.js';
import { styles } from './weight-histogram.styles.js';
import { plural } from '../../text/plural.js';

const integer = new Intl.NumberFormat('en-US');

/** What a histogram request depends on: the model (and the session keeping its weights), layer, channel, bins, zoom. */
type HistogramArgs = readonly [ModelHandle, number, string, number | null, number, readonly [number, number] | null];

/**
 * A layer's weight histogram — the whole tensor or one output channel, linear or log counts — with a
 * quantizer overlaid: its clipping range shaded between two rules (symmetric: ±max|w|; asymmetric:
 * [min, max] widened to include 0) and its grid levels, each drawn where they are far enough apart to see;
 * otherwise the header says how many histogram bins one grid step spans. The grid is INT8 symmetric
 * per-tensor by default; per-channel grids use the shown channel's own range. Hover the histogram, or
 * focus it and use ←/→ (PageUp/PageDown: 10 bins, Home/End), to read a bin. Drag across it, or type a
 * range, to zoom: the bins are counted again over that range, so the INT8 grid's levels become visible
 * one by one; weights outside it are counted below and above. NaN and ±Inf weights are in
 * no bin and counted in a note. The histogram is computed by the Worker that analysed the model, from the
 * weights it kept (no second read); results JSON holds no weights, so it shows a message instead. Follows
 * the layer selected on its model.
 *
 * @tag weight-histogram
 *
 * @event wl-load - The model's results are ready: `detail.report`.
 * @event wl-progress - Loading advanced: `detail.fraction` (0..1, never decreasing) and `detail.text`.
 * @event wl-error - Loading, or the histogram, failed: `detail.error` (a WeightlensError naming the file, and the layer for a bad layer or channel).
 *
 * @csspart base - The element's wrapper.
 * @csspart header - The layer's name, op and shape, what is shown (whole tensor or channel, bins) and the key to the marks.
 * @csspart overlay-summary - The quantizer: bits, scheme, grid, clipping range and how its levels are shown.
 * @csspart controls - The channel, count-scale and quantizer controls.
 * @csspart channel-input - The output channel to show (empty: the whole tensor).
 * @csspart scale-toggle - The log-counts checkbox.
 * @csspart overlay-select - The quantizer's bit width and scheme.
 * @csspart grid-select - Per-tensor or per-channel grid.
 * @csspart zoom - The zoom controls.
 * @csspart zoom-from - The lowest weight shown.
 * @csspart zoom-to - The highest weight shown.
 * @csspart zoom-reset - The button showing the whole range again.
 * @csspart brush - The range being dragged out to zoom.
 * @csspart zoom-note - Zoomed: how many weights lie below and above the range shown.
 * @csspart plot - The focusable chart area (hover, arrow keys to read bins).
 * @csspart chart - The chart's SVG.
 * @csspart bins - The histogram's bars.
 * @csspart clip-range - The shaded clipping range.
 * @csspart clip-bounds - The rules at the clipping range's ends.
 * @csspart grid-levels - The quantization grid's levels (when far enough apart to draw).
 * @csspart cursor - The band marking the bin being read.
 * @csspart readout - The read bin's range and count (an aria-live region).
 * @csspart note - The count of NaN and ±Inf weights, which are in no bin.
 * @csspart table - The `<details>` holding the data table (bin range → count).
 * @csspart status - The loading, empty, error or needs-the-model message.
 * @csspart progress - The loading progress bar.
 *
 * @cssproperty [--wl-border-color=#d0d7de] - Borders and table rules (dark: #3d444d).
 * @cssproperty [--wl-accent-color=#0969da] - Focus ring and the read bin's band (dark: #4493f8).
 * @cssproperty [--wl-bar-color=#3f6fc6] - The histogram's bars (dark: #79a6f2).
 * @cssproperty [--wl-clip-color=#bc4c00] - The clipping range and its bounds (dark: #f0883e).
 * @cssproperty [--wl-grid-level-color=#8250df] - The grid levels (dark: #bc8cff).
 * @cssproperty [--wl-outlier-color=#c8341e] - The non-finite note (dark: #ff7b63).
 * @cssproperty [--wl-table-max-height=20em] - Height of the data table before it scrolls.
 */
export class WeightHistogram extends LayerViewElement {
  static override styles = [themeStyles, headerStyles, chartStyles, styles];

  static override properties = {
    channel: { type: Number, reflect: true },
    scale: { type: String, reflect: true },
    bits: { type: Number, reflect: true },
    scheme: { type: String, reflect: true },
    grid: { type: String, reflect: true },
    bins: { type: Number, reflect: true },
    height: { type: Number },
  };

  /** The output channel to show; unset (null): the whole tensor. Following the model's selection resets it. */
  declare channel: number | null;

  /** Counts on a `linear` (default) or `log` axis. */
  declare scale: CountScale;

  /** Bit width of the overlaid quantizer: `8` (default) or `4`. */
  declare bits: QuantBits;

  /** Scheme of the overlaid quantizer: `symmetric` (default) or `asymmetric`. */
  declare scheme: QuantScheme;

  /** Whose range sets the overlaid grid: `tensor` (default, one grid for the layer) or `channel` (the shown channel's own). */
  declare grid: GridGranularity;

  /** Number of equal-width bins over the shown weights' finite range, 1 to 1024 (default 128). */
  declare bins: number;

  /** Height of the chart in pixels (it always fills the container's width). */
  declare height: number;

  private readonly task = new AnalysisTask<HistogramArgs, LayerHistogram>(this, {
    args: () => this.taskArgs(),
    task: ([handle, , layer, channel, bins, range], { signal }) =>
      handle.histogram({ layer, channel, bins, range }, signal),
    onError: (error) => {
      if (error.code !== 'NO_WEIGHTS') this.emit('wl-error', { error });
    },
  });

  private readonly charts = new ChartCache();
  /** The last histogram computed, shown while the next one is on its way (a channel switch takes ms). */
  private shown: LayerHistogram | undefined;
  private readonly readout = new ChannelReadout<LayerHistogram>(this, {
    indexAt: (value, h) => {
      const w = (h.hi - h.lo) / h.counts.length;
      return w > 0 ? Math.floor((value - h.lo) / w) : 0;
    },
    spanOf: (bin, h) => {
      const b = histogramBins(h)[bin]!;
      return [b.x1, b.x2];
    },
  });
  private readonly brush = new Brush(this, {
    valueAt: (e) => (this.charts.node ? xValueAt(this.charts.node, e) : null),
    // A click is not a zoom: only a drag wider than a few pixels' worth of weights.
    isZoom: (from, to) => {
      const chart = this.charts.node!;
      const [d0, d1] = chart.scale('x')!.domain as [number, number];
      return Math.abs(to - from) > ((d1 - d0) * 4) / chart.width.baseVal.value;
    },
    zoom: (span) => (this.zoom = span),
  });
  private readonly table = new DataTable(this);
  /** The zoomed range and the layer and channel it was set on: another layer or channel starts unzoomed. */
  private zoomed: { layer: string; channel: number | null; range: [number, number] } | undefined;

  constructor() {
    super();
    this.channel = null;
    this.scale = 'linear';
    this.bits = 8;
    this.scheme = 'symmetric';
    this.grid = 'tensor';
    this.bins = 128;
    this.height = 240;
  }

  /** The bound model's state, then the histogram's: 'loading' while it is computed, 'error' if it failed. */
  override get status(): ModelStatus {
    const model = super.status;
    if (model !== 'ready' || this.needsModel) return model;
    return ({ initial: 'loading', pending: 'loading', complete: 'ready', error: 'error' } as const)[this.task.status];
  }

  /** The histogram shown (while the next one is computed, the last one). */
  get histogram(): LayerHistogram | undefined {
    return this.task.value ?? (this.task.status === 'pending' ? this.shown : undefined);
  }

  /** The weight range zoomed to, `[lowest, highest]`; null shows the finite min..max (the whole range). */
  get zoom(): [number, number] | null {
    const h = this.histogram;
    const z = this.zoomed;
    return z && h && z.layer === h.layer && z.channel === h.channel ? z.range : null;
  }

  set zoom(range: readonly [number, number] | null) {
    const h = this.histogram;
    const ok = range && Number.isFinite(range[0]) && Number.isFinite(range[1]) && range[0] !== range[1];
    this.zoomed =
      h && ok ? { layer: h.layer, channel: h.channel, range: [Math.min(...range), Math.max(...range)] } : undefined;
    this.requestUpdate();
  }

  /** The quantizer overlaid, from the layer's statistics; undefined when there is none to draw. */
  get overlay(): QuantOverlay | undefined {
    const h = this.histogram;
    const layer = h && this.layerReport(h);
    return (layer && quantOverlay(layer, h.channel, this.overlayOptions)) ?? undefined;
  }

  /** Why there is no histogram: the model's load error, or a bad layer or channel. */
  get error(): WeightlensError | undefined {
    return this.models.handle?.error ?? (this.needsModel ? undefined : this.task.error);
  }

  private get overlayOptions(): OverlayOptions {
    return {
      bits: Number(this.bits) === 4 ? 4 : 8,
      scheme: this.scheme === 'asymmetric' ? 'asymmetric' : 'symmetric',
      grid: this.grid === 'channel' ? 'channel' : 'tensor',
    };
  }

  /** Results without weights (results JSON): nothing to count. */
  private get needsModel(): boolean {
    const handle = this.models.handle;
    return handle?.status === 'ready' && (handle.session === undefined || this.task.error?.code === 'NO_WEIGHTS');
  }

  protected override selectionChanged(layer: string | undefined): void {
    if (!layer || layer === this.layer) return;
    this.layer = layer;
    this.channel = null;
  }

  private taskArgs(): HistogramArgs | undefined {
    const handle = this.models.handle;
    const report = handle?.report;
    if (!handle || handle.status !== 'ready' || handle.session === undefined || !report) return undefined;
    // A name the report does not know goes to the Worker as given: its error names the file and the layers.
    const name = this.chooseLayer(report, this.layer)?.name ?? this.layer ?? '';
    const bins = Math.min(MAX_HISTOGRAM_BINS, Math.max(1, Math.round(Number(this.bins)) || 128));
    const channel =
      this.channel === null || this.channel === undefined || Number.isNaN(this.channel) ? null : this.channel;
    const z = this.zoomed;
    return [
      handle,
      handle.session,
      name,
      channel,
      bins,
      z && z.layer === name && z.channel === channel ? z.range : null,
    ];
  }

  private layerReport(h: LayerHistogram): LayerReport | undefined {
    return this.models.report?.layers.find((l) => l.name === h.layer);
  }

  protected override updated(changed: PropertyValues): void {
    super.updated(changed);
    if (this.task.value) this.shown = this.task.value;
  }

  override render() {
    const status = this.renderStatus();
    const report = this.models.report;
    if (status !== nothing || !report) return html`<div part="base">${status}</div>`;
    if (this.needsModel) {
      return html`<div part="base"><p part="status" class="status note" role="status">${needsModelError(report.file).message}.</p></div>`;
    }
    if (this.task.status === 'error')
      return html`<div part="base">${this.renderProblem(this.task.error!.message)}</div>`;
    const h = this.histogram;
    const layer = h && this.layerReport(h);
    if (!h || !layer) {
      return html`<div part="base"><div part="status" class="status" role="status">Computing the histogram…</div></div>`;
    }
    const overlay = quantOverlay(layer, h.channel, this.overlayOptions);
    const bins = histogramBins(h);
    const chart = this.chartFor(h, overlay);
    this.readout.show(h, [0, bins.length - 1], chart);
    return html`<div part="base">
      ${this.renderHeader(layer, h, overlay)} ${histogramControls(this, layer.channels.min.length - 1, h, this.overlayOptions)}
      ${this.readout.plot(`Weight histogram of ${h.layer}, ${selectionText(h)}. Arrow keys read one bin at a time.`, chart, this.brush)}
      ${this.renderReadout(layer, h, bins)} ${zoomControls(this, h)}
      ${
        h.zoomed
          ? html`<p part="zoom-note" class="zoom-note">Zoomed to ${formatNumber(h.lo)} … ${formatNumber(h.hi)}:
            ${plural(h.below, 'weight')} below and ${plural(h.above, 'weight')} above it are not shown.</p>`
          : nothing
      }
      ${
        h.nonFinite
          ? html`<p part="note" class="note">${plural(h.nonFinite, 'weight')} of ${integer.format(h.elements)} ${h.nonFinite === 1 ? 'is' : 'are'} NaN or ±Inf: counted here, in no bin.</p>`
          : nothing
      }
      ${this.renderTable(h, bins)}
    </div>`;
  }

  private renderHeader(layer: LayerReport, h: LayerHistogram, overlay: QuantOverlay | null): TemplateResult {
    const options = this.overlayOptions;
    return html`<div part="header" class="header">
      <span class="layer-name">${layer.name}</span>
      <span class="layer-meta">${opLabel(layer)} · [${layer.shape.join('×')}] · ${selectionText(h)}${h.channel === null ? '' : ` of ${layer.channels.min.length}`} ·
        ${plural(h.elements, 'weight')} in ${plural(h.counts.length, 'bin')}</span>
      <span class="keys" aria-hidden="true">
        <span class="key"><svg width="12" height="14" viewBox="0 0 12 14"><rect x="1" y="4" width="10" height="10" fill="var(--_bar-color)"/></svg>weights</span>
        <span class="key"><svg width="14" height="14" viewBox="0 0 14 14"><rect x="1" y="0" width="12" height="14" fill="var(--_clip-color)" fill-opacity="0.15"/><line x1="1" x2="1" y1="0" y2="14" stroke="var(--_clip-color)" stroke-width="2"/><line x1="13" x2="13" y1="0" y2="14" stroke="var(--_clip-color)" stroke-width="2"/></svg>clipping range</span>
        <span class="key"><svg width="12" height="14" viewBox="0 0 12 14"><line x1="3" x2="3" y1="0" y2="14" stroke="var(--_grid-level-color)"/><line x1="9" x2="9" y1="0" y2="14" stroke="var(--_grid-level-color)"/></svg>grid levels</span>
      </span>
    </div>
    <p part="overlay-summary" class="overlay-summary">
      <strong>${overlayLabel(options)}</strong>:
      ${
        overlay
          ? html`clipping range ${clipText(overlay)}; ${gridText(h, overlay, this.width.value)}.`
          : options.grid === 'channel' && h.channel === null
            ? html`each output channel has its own grid — choose a channel to see one.`
            : html`no finite weight to set a grid.`
      }
    </p>`;
  }

  private chartFor(h: LayerHistogram, overlay: QuantOverlay | null): Chart {
    const width = this.width.value;
    const scale = this.scale === 'log' ? 'log' : 'linear';
    return this.charts.get(JSON.stringify({ width, height: this.height, scale, overlay }), h, () =>
      renderChart(
        weightHistogramPlot(h, overlay, { width, height: this.height, scale }),
        weightHistogramText(h, overlay, width),
        'chart',
        markParts(WEIGHT_HISTOGRAM_MARKS, { levels: 'grid-levels' }),
      ),
    );
  }

  private renderReadout(layer: LayerReport, h: LayerHistogram, bins: HistogramBin[]): TemplateResult {
    return this.readout.readout((i) => {
      const bin = bins[i]!;
      // A recurrent weight's channel is read with its direction, gate and unit.
      const which = h.channel !== null && layer.recurrent ? `${channelLabel(layer, h.channel)}, bin` : 'Bin';
      const share = h.elements
        ? ` (${((bin.count / h.elements) * 100).toPrecision(3)}% of ${integer.format(h.elements)})`
        : '';
      return html`<strong>${which} ${bin.bin + 1} of ${bins.length}</strong>: ${rangeText(bin, bins.length)} — ${plural(bin.count, 'weight')}${share}`;
    }, 'Hover the histogram, or focus it and press ← →, to read a bin.');
  }

  private renderTable(h: LayerHistogram, bins: HistogramBin[]): TemplateResult {
    return this.table.render({
      part: 'table',
      summary: `Data table: ${plural(bins.length, 'bin')}`,
      label: `Histogram bins of ${h.layer}`,
      caption: `Weights of ${h.layer} (${selectionText(h)}) per bin`,
      head: html`<tr><th scope="col">Bin</th><th scope="col">Weights from</th><th scope="col">to</th><th scope="col">Count</th></tr>`,
      rows: () => bins,
      row: (b) =>
        html`<tr><th scope="row">${b.bin + 1}</th><td>${formatNumber(b.x1)}</td><td>${formatNumber(b.x2)}${b.bin === bins.length - 1 ? ' (incl.)' : ''}</td><td>${b.count}</td></tr>`,
    });
  }
}

/** "[a, b)" for a bin; the last one is closed, as the kernel counts hi in it. */
const rangeText = (b: HistogramBin, n: number) =>
  `[${formatNumber(b.x1)}, ${formatNumber(b.x2)}${b.bin === n - 1 ? ']' : ')'}`;

declare global {
  interface HTMLElementTagNameMap {
    'weight-histogram': WeightHistogram;
  }
}
