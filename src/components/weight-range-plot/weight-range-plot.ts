import { html, nothing } from 'lit';
import { channelLabel } from '../../analysis/recurrent.js';
import type { LayerReport } from '../../report/stats-report.js';
import { channelCount, channelRows, clampDomain, type ChannelDomain } from '../../plot/channels.js';
import { formatNumber, formatSpan } from '../../plot/format.js';
import { WEIGHT_RANGE_MARKS, weightRangePlot, weightRangeText } from '../../plot/weight-ranges.js';
import { modelGrid, type ModelGrid } from '../../plot/model-quantization.js';
import { ModelViewElement } from '../model-view-element.js';
import { renderChart, type Chart } from '../shared/chart.js';
import { layerHeader } from '../shared/layer-header.js';
import { chartStyles, headerStyles, themeStyles } from '../shared/theme.styles.js';
import { styles } from './weight-range-plot.styles.js';
import { channelAfterKey } from '../shared/channel-keys.js';

/** Rows of the data table shown at most; zoom in to read the others. */
const MAX_TABLE_ROWS = 2000;

interface Drag {
  pointer: number;
  from: number;
  to: number;
  moved: boolean;
}

/**
 * AIMET's "Weight Ranges per Output Channel" for one layer of a model: per output channel a rule from
 * the smallest to the largest weight and the mean as a dot; outlier channels (relative range above the
 * layer's Tukey fence) in the outlier colour, their means as triangles; dead channels (range at most 1e-4
 * of the layer's largest: harmless for weight quantization) as a cross. Hover the plot, or focus it and
 * use ←/→ (PageUp/PageDown: 10 channels, Home/End), to read a channel's min, max, mean and std; drag
 * across the plot, or type a channel span, to zoom. Follows the layer selected on its model (e.g. by a
 * `<layer-table>` bound to the same model). For a quantized model (QDQ), the range the model's own scales and
 * zero points can represent in each channel is drawn behind the weights, and the readout and table give
 * the model's scale beside the one weightlens would choose.
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
 * @cssproperty [--wl-color=#1f2328] - Text and axes (dark: #e6edf3).
 * @cssproperty [--wl-background=#ffffff] - Background (dark: #0d1117).
 * @cssproperty [--wl-muted-color=#57606a] - Secondary text (dark: #9ea7b3).
 * @cssproperty [--wl-border-color=#d0d7de] - Borders and table rules (dark: #3d444d).
 * @cssproperty [--wl-accent-color=#0969da] - Focus ring, progress and zoom brush (dark: #4493f8).
 * @cssproperty [--wl-range-color=#3f6fc6] - Channel range rules (dark: #79a6f2).
 * @cssproperty [--wl-mean-color=#1d2b44] - Channel mean dots (dark: #f0f6fc).
 * @cssproperty [--wl-outlier-color=#c8341e] - Outlier channels (dark: #ff7b63).
 * @cssproperty [--wl-dead-color=#8c959f] - Dead channels (dark: #6e7681).
 * @cssproperty [--wl-model-range-color=#8250df] - Quantized models: the model's own range per channel (dark: #a371f7).
 * @cssproperty [--wl-error-color=#b42318] - Error messages (dark: #ff8f80).
 * @cssproperty [--wl-radius=6px] - Corner radius of controls.
 * @cssproperty [--wl-font=system-ui] - Font family.
 * @cssproperty [--wl-table-max-height=20em] - Height of the data table before it scrolls.
 */
export class WeightRangePlot extends ModelViewElement {
  static override styles = [themeStyles, headerStyles, chartStyles, styles];

  static override properties = {
    layer: { type: String, reflect: true },
    height: { type: Number },
  };

  /**
   * The layer to show (its name, or its weight's name). When unset: the layer selected on the model,
   * else the worst (lowest INT8 per-tensor SQNR). Updated when the model's selection changes, so the plot follows a `<layer-table>`.
   */
  declare layer: string | null;

  /** Height of the chart in pixels (it always fills the container's width). */
  declare height: number;
  private shownLayer: LayerReport | undefined;
  private zoomLayer: LayerReport | undefined;
  private activeLayer: LayerReport | undefined;
  private chart: { layer: LayerReport; key: string; node: Chart } | undefined;

  private active: number | null = null;
  private zoomSpan: ChannelDomain | null = null;
  private dragging: Drag | null = null;
  private tableOpen = false;

  constructor() {
    super();
    this.layer = null;
    this.height = 320;
  }

  /** The channel span shown, `[first, last]` inclusive; null shows every channel. */
  get zoom(): ChannelDomain | null {
    return this.zoomSpan;
  }

  set zoom(span: ChannelDomain | null) {
    this.zoomLayer = this.shownLayer;
    this.zoomSpan = span ? [Math.min(span[0], span[1]), Math.max(span[0], span[1])] : null;
    this.requestUpdate();
  }

  protected override selectionChanged(layer: string | undefined): void {
    if (layer) this.layer = layer;
  }

  override render() {
    const status = this.renderStatus();
    const report = this.models.report;
    if (status !== nothing || !report) return html`<div part="base">${status}</div>`;
    const layer = this.chooseLayer(report, this.layer);
    if (!layer) {
      return html`<div part="base">${this.renderProblem(`${report.file}: no weight layer named "${this.layer}" (${report.layers.length} layers)`)}</div>`;
    }
    // Zoom and the read channel belong to the layer they were set on: another layer (or model) starts afresh.
    this.shownLayer = layer;
    this.zoomLayer ??= layer;
    this.activeLayer ??= layer;
    if (channelCount(layer) === 0) return html`<div part="base">${layerHeader(layer, [])}${this.renderProblem(`${layer.name} has no channels`)}</div>`;
    const domain = clampDomain(layer, this.zoomLayer === layer ? this.zoomSpan : null);
    const chart = this.chartFor(layer, domain);
    return html`<div part="base">
      ${layerHeader(layer, modelGrid(layer) ? ['range', 'mean', 'outlier', 'dead', 'model-range'] : ['range', 'mean', 'outlier', 'dead'])}
      <div
        part="plot"
        class="plot"
        tabindex="0"
        role="group"
        aria-label=${`Weight ranges of ${layer.name}, channels ${formatSpan(domain)}. Arrow keys read one channel at a time.`}
        @keydown=${(e: KeyboardEvent) => this.onKey(e, domain)}
        @focus=${() => this.onFocus(domain)}
        @pointerdown=${(e: PointerEvent) => this.onPointerDown(e, domain)}
        @pointermove=${(e: PointerEvent) => this.onPointerMove(e, domain)}
        @pointerup=${(e: PointerEvent) => this.onPointerUp(e)}
        @pointercancel=${() => this.setDrag(null)}
      >
        ${chart}${this.renderCursor(chart, domain)}${this.renderBrush(chart)}
      </div>
      ${this.renderReadout(layer, domain)} ${this.renderZoom(layer, domain)} ${this.renderTable(layer, domain)}
    </div>`;
  }

  private chartFor(layer: LayerReport, domain: ChannelDomain): Chart {
    const width = this.width.value;
    const key = `${width}|${this.height}|${domain.join('-')}`;
    if (this.chart?.key !== key || this.chart.layer !== layer) {
      const options = weightRangePlot(layer, { width, height: this.height, domain });
      const node = renderChart(options, weightRangeText(layer, domain), 'chart', {
        [WEIGHT_RANGE_MARKS.ranges]: 'ranges',
        [WEIGHT_RANGE_MARKS.means]: 'means',
        [WEIGHT_RANGE_MARKS.outlierRanges]: 'outlier-ranges',
        [WEIGHT_RANGE_MARKS.outlierMeans]: 'outlier-means',
        [WEIGHT_RANGE_MARKS.modelRange]: 'model-range',
        [WEIGHT_RANGE_MARKS.deadChannels]: 'dead-channels',
      });
      this.chart = { layer, key, node };
    }
    return this.chart.node;
  }

  /** Horizontal position of channel `c` as a percentage of the chart's width. */
  private percentAt(chart: Chart, c: number): number {
    const x = chart.scale('x')!.apply(c) as number;
    return (x / chart.width.baseVal.value) * 100;
  }

  /** The channel being read, if it belongs to the shown layer. */
  private get reading(): number | null {
    return this.activeLayer === this.shownLayer ? this.active : null;
  }

  private setReading(c: number): void {
    this.activeLayer = this.shownLayer;
    this.active = c;
    this.requestUpdate();
  }

  private renderCursor(chart: Chart, [lo, hi]: ChannelDomain) {
    const c = this.reading;
    if (c === null || c < lo || c > hi) return nothing;
    return html`<div part="cursor" class="cursor" style="left: ${this.percentAt(chart, c)}%"></div>`;
  }

  private renderBrush(chart: Chart) {
    const drag = this.dragging;
    if (!drag?.moved) return nothing;
    const a = this.percentAt(chart, Math.min(drag.from, drag.to) - 0.5);
    const b = this.percentAt(chart, Math.max(drag.from, drag.to) + 0.5);
    return html`<div part="brush" class="brush" style="left: ${a}%; width: ${b - a}%"></div>`;
  }

  private renderReadout(layer: LayerReport, [lo, hi]: ChannelDomain) {
    const c = this.reading;
    if (c === null || c < lo || c > hi) {
      return html`<div part="readout" class="readout hint" aria-live="polite" aria-atomic="true">
        Hover the plot, or focus it and press ← →, to read a channel. Drag across it to zoom.
      </div>`;
    }
    const [row] = channelRows(layer, [c, c]);
    const grid = modelGrid(layer);
    return html`<div part="readout" class="readout" aria-live="polite" aria-atomic="true">
      <strong>${channelLabel(layer, c)}</strong>: min ${formatNumber(row!.min)}, max ${formatNumber(row!.max)},
      mean ${formatNumber(row!.mean)}, std ${formatNumber(row!.std)}${row!.outlier
        ? html` — <span class="outlier">outlier</span>, relative range ${formatNumber(row!.relativeRange)}`
        : row!.dead ? html` — <span class="dead">dead</span>: its range is at most 1e-4 of the layer's largest; harmless for weight quantization`
        : nothing}${grid ? html`<br />${modelScaleLine(grid, c)}` : nothing}
    </div>`;
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
    const rows = this.tableOpen ? channelRows(layer, domain) : [];
    const grid = this.tableOpen ? modelGrid(layer) : null;
    const shown = rows.slice(0, MAX_TABLE_ROWS);
    return html`<details part="table" @toggle=${(e: Event) => this.toggleTable(e)}>
      <summary>Data table: channels ${formatSpan(domain)}</summary>
      ${this.tableOpen
        ? html`<div class="data-table" tabindex="0" role="region" aria-label="Channel statistics of ${layer.name}">
            <table>
              <caption class="visually-hidden">Per-channel weight statistics of ${layer.name}</caption>
              <thead><tr><th scope="col">Channel</th><th scope="col">Min</th><th scope="col">Max</th><th scope="col">Mean</th><th scope="col">Std</th><th scope="col">Relative range</th><th scope="col">Outlier</th>${grid
                ? html`<th scope="col">Model's scale</th><th scope="col">Model's zero point</th><th scope="col">Model's range</th><th scope="col">Our scale (${grid.ours})</th>`
                : nothing}</tr></thead>
              <tbody>
                ${shown.map((r) => html`<tr>
                  <th scope="row">${r.channel}</th><td>${formatNumber(r.min)}</td><td>${formatNumber(r.max)}</td><td>${formatNumber(r.mean)}</td>
                  <td>${formatNumber(r.std)}</td><td>${r.dead ? 'dead' : formatNumber(r.relativeRange)}</td><td>${r.outlier ? 'yes' : ''}</td>${grid ? modelCells(grid, r.channel) : nothing}
                </tr>`)}
              </tbody>
            </table>
            ${rows.length > shown.length ? html`<p>First ${shown.length} of ${rows.length} channels: zoom in to see the others.</p>` : nothing}
          </div>`
        : nothing}
    </details>`;
  }

  private toggleTable(e: Event): void {
    this.tableOpen = (e.target as HTMLDetailsElement).open;
    this.requestUpdate();
  }

  private channelAt(e: PointerEvent, [lo, hi]: ChannelDomain): number | null {
    const chart = this.chart?.node;
    if (!chart) return null;
    const box = chart.getBoundingClientRect();
    if (box.width === 0) return null;
    const x = ((e.clientX - box.left) / box.width) * chart.width.baseVal.value;
    const c = Math.round(chart.scale('x')!.invert!(x) as number);
    return Math.min(hi, Math.max(lo, c));
  }

  private onFocus([lo, hi]: ChannelDomain): void {
    const c = this.reading;
    if (c === null || c < lo || c > hi) this.setReading(lo);
  }

  private onKey(e: KeyboardEvent, domain: ChannelDomain): void {
    const next = channelAfterKey(e.key, this.reading, domain);
    if (next === null) return;
    e.preventDefault();
    this.setReading(next);
  }

  private onPointerDown(e: PointerEvent, domain: ChannelDomain): void {
    if (e.button !== 0) return;
    const c = this.channelAt(e, domain);
    if (c === null) return;
    try {
      (e.currentTarget as HTMLElement).setPointerCapture(e.pointerId);
    } catch {
      // Not an active pointer (a synthetic event): dragging still works while it stays over the plot.
    }
    this.setDrag({ pointer: e.pointerId, from: c, to: c, moved: false });
  }

  private setDrag(drag: Drag | null): void {
    this.dragging = drag;
    this.requestUpdate();
  }

  private onPointerMove(e: PointerEvent, domain: ChannelDomain): void {
    const c = this.channelAt(e, domain);
    if (c === null) return;
    const drag = this.dragging;
    if (drag && drag.pointer === e.pointerId) {
      if (c !== drag.to) this.setDrag({ ...drag, to: c, moved: true });
    }
    this.setReading(c);
  }

  private onPointerUp(e: PointerEvent): void {
    const drag = this.dragging;
    if (!drag || drag.pointer !== e.pointerId) return;
    this.setDrag(null);
    if (drag.moved && drag.from !== drag.to) this.zoom = [drag.from, drag.to];
  }
}

/** "Model: int8 scale s, zero point z → [lo, hi]; ours (INT8 symmetric per-channel): s'" for channel c. */
function modelScaleLine(grid: ModelGrid, c: number) {
  const g = grid.channels[c]!;
  const scale = g.scale === null ? `${grid.granularity}: several scales` : `scale ${formatNumber(g.scale)}, zero point ${g.zeroPoint}`;
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
