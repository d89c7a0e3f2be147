import { html } from 'lit';
import type { LayerReport } from '../../report/stats-report.js';
import { channelRows } from '../../plot/channels.js';
import { formatNumber } from '../../plot/format.js';
import {
  HISTOGRAM_MARKS,
  relativeRangeHistogram,
  relativeRangeHistogramText,
} from '../../plot/relative-range-histogram.js';
import { RELATIVE_RANGE_MARKS, relativeRangePlot, relativeRangeText } from '../../plot/relative-ranges.js';
import { relativeRangeSummary } from '../../plot/summary.js';
import { LayerViewElement } from '../layer-view-element.js';
import { ChartCache, markParts, renderChart } from '../shared/chart.js';
import { DataTable } from '../shared/data-table.js';
import { layerHeader } from '../shared/layer-header.js';
import { deadChannelNote } from '../../report/dead-channels.js';
import { headerStyles, themeStyles } from '../shared/theme.styles.js';
import { styles } from './relative-range-plot.styles.js';

const MAX_TABLE_ROWS = 2000;
/** Below this width the histogram and the summary stack. */
const NARROW = 620;
const SUMMARY_WIDTH = 260;

/**
 * AIMET's problematic-layer view of one layer: each output channel's relative range (its weight range
 * divided by the layer's smallest live channel range: dead channels, whose range is at most 1e-4 of the
 * largest, are left out and named) with the Tukey fence Q3 + 1.5·IQR above which a channel is an outlier,
 * a histogram of the relative ranges, and their summary (mean, std, min, quartiles, max).
 * Shows the same layer as the other elements bound to its model unless `layer` names one.
 *
 * @tag relative-range-plot
 *
 * @event wl-load - The model's results are ready: `detail.report`.
 * @event wl-progress - Loading advanced: `detail.fraction` (0..1, never decreasing) and `detail.text`.
 * @event wl-error - Loading failed: `detail.error` (a WeightlensError naming the file).
 *
 * @csspart base - The element's wrapper.
 * @csspart header - The layer's name, op, shape and the key to the marks.
 * @csspart notes - What the reader noted about the layer (e.g. a quantized bias left out, and why).
 * @csspart plot - The relative-range chart's container.
 * @csspart chart - The relative-range chart's SVG.
 * @csspart channels - The dots of ordinary channels.
 * @csspart outliers - The triangles of outlier channels.
 * @csspart fence - The Tukey fence line (in both charts).
 * @csspart histogram - The histogram's SVG.
 * @csspart bins - The histogram's bars.
 * @csspart summary - The summary table.
 * @csspart table - The `<details>` holding the per-channel data table.
 * @csspart status - The loading, empty or error message.
 * @csspart progress - The loading progress bar.
 *
 * @cssproperty [--wl-border-color=#d0d7de] - Table rules (dark: #3d444d).
 * @cssproperty [--wl-accent-color=#0969da] - Focus ring and progress (dark: #4493f8).
 * @cssproperty [--wl-range-color=#3f6fc6] - Ordinary channels (dark: #79a6f2).
 * @cssproperty [--wl-outlier-color=#c8341e] - Outlier channels (dark: #ff7b63).
 * @cssproperty [--wl-fence-color=#9a6700] - The Tukey fence (dark: #e3b341).
 * @cssproperty [--wl-bar-color=#3f6fc6] - Histogram bars (dark: #79a6f2).
 * @cssproperty [--wl-table-max-height=20em] - Height of the data table before it scrolls.
 */
export class RelativeRangePlot extends LayerViewElement {
  static override styles = [themeStyles, headerStyles, styles];

  static override properties = {
    height: { type: Number },
  };

  /** Height of the relative-range chart in pixels (the histogram is 3/4 of it). */
  declare height: number;
  private readonly plotChart = new ChartCache();
  private readonly histogramChart = new ChartCache();
  private readonly table = new DataTable(this);

  constructor() {
    super();
    this.height = 260;
  }

  override render() {
    const shown = this.layerToDraw();
    if ('instead' in shown) return shown.instead;
    const { layer } = shown;
    if (layer.relativeRange.every((v) => v === null)) {
      const why = `${deadChannelNote(layer)}.`;
      return html`<div part="base">${layerHeader(layer, [])}<p part="status" class="status note" role="status">${why}</p></div>`;
    }
    const width = this.width.value;
    const narrow = width < NARROW;
    const { plot, histogram } = this.chartsFor(layer, width, narrow ? width : width - SUMMARY_WIDTH - 24);
    return html`<div part="base">
      ${layerHeader(layer, ['dot', 'outlier', 'fence'])}
      <div part="plot" class="plot">${plot}</div>
      <div class="lower ${narrow ? 'narrow' : ''}">
        <div class="histogram">${histogram}</div>
        ${this.renderSummary(layer)}
      </div>
      ${this.renderTable(layer)}
    </div>`;
  }

  private chartsFor(layer: LayerReport, width: number, histogramWidth: number) {
    const plot = this.plotChart.get(`${width}|${this.height}`, layer, () =>
      renderChart(
        relativeRangePlot(layer, { width, height: this.height }),
        relativeRangeText(layer),
        'chart',
        markParts(RELATIVE_RANGE_MARKS),
      ),
    );
    const histogram = this.histogramChart.get(`${histogramWidth}|${this.height}`, layer, () =>
      renderChart(
        relativeRangeHistogram(layer, { width: histogramWidth, height: Math.round(this.height * 0.75) }),
        relativeRangeHistogramText(layer),
        'histogram',
        { [HISTOGRAM_MARKS.bins]: 'bins', [HISTOGRAM_MARKS.fence]: 'fence' },
      ),
    );
    return { plot, histogram };
  }

  private renderSummary(layer: LayerReport) {
    const rows = relativeRangeSummary(layer);
    return html`<table part="summary" class="summary">
      <caption>Relative range summary</caption>
      <tbody>
        ${rows.map((r) => html`<tr><th scope="row">${r.label}</th><td>${formatNumber(r.value)}</td></tr>`)}
      </tbody>
    </table>`;
  }

  private renderTable(layer: LayerReport) {
    return this.table.render({
      part: 'table',
      summary: 'Data table: relative range of each channel',
      label: `Relative ranges of ${layer.name}`,
      caption: `Relative range per channel of ${layer.name}`,
      head: html`<tr><th scope="col">Channel</th><th scope="col">Min</th><th scope="col">Max</th><th scope="col">Relative range</th><th scope="col">Outlier</th></tr>`,
      rows: () => channelRows(layer),
      row: (r) => html`<tr>
        <th scope="row">${r.channel}</th><td>${formatNumber(r.min)}</td><td>${formatNumber(r.max)}</td>
        <td>${formatNumber(r.relativeRange)}</td><td>${r.outlier ? 'yes' : ''}</td>
      </tr>`,
      limit: { rows: MAX_TABLE_ROWS, note: (shown, total) => `First ${shown} of ${total} channels.` },
    });
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'relative-range-plot': RelativeRangePlot;
  }
}
