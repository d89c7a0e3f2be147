// One layer seen on two sides, per output channel (AIMET's "changes in key stats"), as <cle-compare> (before
// and after CLE) and <model-compare> (two versions of a model) show it: each channel's range and mean before
// (dotted) and after (solid), the change shaded, outliers in the outlier colour; hover, or focus and ←/→
// (PageUp/PageDown, Home/End), to read a channel on both sides; the channels' data table below.
import { html, nothing, svg, type ReactiveControllerHost, type TemplateResult } from 'lit';
import type { LayerReport } from '../../report/stats-report.js';
import { channelCount, clampDomain, type ChannelDomain } from '../../plot/channels.js';
import {
  BEFORE_DASH,
  channelChangeMarks,
  cleChannelPlot,
  cleChannelRows,
  cleChannelText,
  maxRelativeRangeText,
  type LayerChange,
  type SideLabels,
} from '../../plot/cle-channels.js';
import { formatNumber, formatSpan } from '../../plot/format.js';
import { formatDb } from '../../plot/quant-error.js';
import { plural } from '../../text/plural.js';
import { ChannelReadout } from './channel-readout.js';
import { ChartCache, markParts, renderChart } from './chart.js';
import { DataTable } from './data-table.js';
import { opLabel } from './layer-header.js';
import { errorAlert } from './status.js';

/** INT8 symmetric per-tensor SQNR: a number, null when exact, undefined without figures (or non-finite weights). */
export const int8PerTensor = (l: LayerReport) => l.quant?.int8.symmetric.perTensor;
export const sqnrText = (l: LayerReport) => (l.quant ? formatDb(l.quant.int8.symmetric.perTensor) : 'n/a');

/** Rows of the channel data table shown at most. */
const MAX_TABLE_ROWS = 2000;

export class LayerChangeView {
  private readonly chart = new ChartCache();
  private readonly readout: ChannelReadout<LayerChange>;
  private readonly table: DataTable;
  private readonly marks: ReturnType<typeof channelChangeMarks>;

  /** `sides`: what the two sides are called in the chart's marks and text, the table and the readout. */
  constructor(
    host: ReactiveControllerHost,
    private readonly sides: SideLabels,
  ) {
    this.readout = new ChannelReadout(host);
    this.table = new DataTable(host);
    this.marks = channelChangeMarks(sides);
  }

  /** The view of `change` (kept by identity: the chart is drawn again only for another object or size). */
  render(change: LayerChange, width: number, height: number): TemplateResult {
    if (channelCount(change.before) === 0) {
      return html`<section class="layer">${this.layerHeader(change)}${errorAlert(`${change.name} has no channels`)}</section>`;
    }
    const domain = clampDomain(change.before, null);
    const chart = this.chart.get(`${width}|${height}`, change, () =>
      renderChart(
        cleChannelPlot(change, { width, height, domain, sides: this.sides }),
        cleChannelText(change, domain, this.sides),
        'chart',
        markParts(this.marks),
      ),
    );
    this.readout.show(change, domain, chart);
    const label = `Changes per output channel of ${change.name}, channels ${formatSpan(domain)}. Arrow keys read one channel at a time.`;
    return html`<section class="layer" aria-label=${`Changes in key stats per output channel of ${change.name}`}>
      ${this.layerHeader(change)} ${this.readout.plot(label, chart)}
      ${this.readout.readout((c) => channelLine(change, c), `Hover the plot, or focus it and press ← →, to read a channel ${this.sides.before} and ${this.sides.after}.`)}
      ${this.renderTable(change, domain)}
    </section>`;
  }

  private layerHeader(change: LayerChange): TemplateResult {
    const { before, after } = change;
    const key = (icon: TemplateResult, text: string) =>
      html`<span class="key"><svg width="14" height="14" viewBox="0 0 14 14">${icon}</svg>${text}</span>`;
    return html`<div part="header" class="header">
      <span class="layer-name">${change.name}</span>
      <span class="layer-meta">${opLabel(before)} · [${before.shape.join('×')}] · ${plural(before.channels.min.length, 'channel')} ·
        largest relative range ${maxRelativeRangeText(before)} → ${maxRelativeRangeText(after)} ·
        outliers ${before.outliers.length} → ${after.outliers.length}${
          int8PerTensor(before) !== undefined ? ` · INT8 per-tensor SQNR ${sqnrText(before)} → ${sqnrText(after)}` : ''
        }</span>
      <span class="keys" aria-hidden="true">
        ${key(svg`<line x1="7" x2="7" y1="1" y2="13" stroke="var(--_before-color)" stroke-width="2" stroke-dasharray=${BEFORE_DASH}/>`, 'before')}
        ${key(svg`<line x1="7" x2="7" y1="1" y2="13" stroke="var(--_after-color)" stroke-width="2.5"/>`, 'after')}
        ${key(svg`<rect x="1" y="3" width="12" height="8" fill="var(--_change-color)" fill-opacity="0.45"/>`, 'change')}
        ${key(svg`<line x1="7" x2="7" y1="1" y2="13" stroke="var(--_outlier-color)" stroke-width="2.5"/>`, 'outlier')}
      </span>
    </div>`;
  }

  private renderTable(change: LayerChange, domain: ChannelDomain) {
    const flag = (r: ReturnType<typeof cleChannelRows>[number]) =>
      [r.before.outlier ? 'before' : '', r.after.outlier ? 'after' : ''].filter(Boolean).join(', ');
    return this.table.render({
      part: 'table',
      summary: `Data table: channels ${formatSpan(domain)}`,
      label: `Channel statistics of ${change.name} ${this.sides.before} and ${this.sides.after}`,
      caption: `Per-channel weight statistics of ${change.name} ${this.sides.before} and ${this.sides.after}`,
      head: html`<tr>
        <th scope="col">Channel</th>
        <th scope="col">Min before</th><th scope="col">Min after</th>
        <th scope="col">Max before</th><th scope="col">Max after</th>
        <th scope="col">Mean before</th><th scope="col">Mean after</th>
        <th scope="col">Rel. range before</th><th scope="col">Rel. range after</th>
        <th scope="col">Outlier</th>
      </tr>`,
      rows: () => cleChannelRows(change, domain),
      row: (r) => html`<tr>
        <th scope="row">${r.channel}</th>
        <td>${formatNumber(r.before.min)}</td><td>${formatNumber(r.after.min)}</td>
        <td>${formatNumber(r.before.max)}</td><td>${formatNumber(r.after.max)}</td>
        <td>${formatNumber(r.before.mean)}</td><td>${formatNumber(r.after.mean)}</td>
        <td>${formatNumber(r.before.relativeRange)}</td><td>${formatNumber(r.after.relativeRange)}</td>
        <td>${flag(r)}</td>
      </tr>`,
      limit: { rows: MAX_TABLE_ROWS, note: (shown, total) => `First ${shown} of ${total} channels.` },
    });
  }
}

/** Channel `c`'s figures on both sides, and whether it is an outlier before or after. */
function channelLine(change: LayerChange, c: number): TemplateResult {
  const [row] = cleChannelRows(change, [c, c]);
  const { before: b, after: a } = row!;
  const outlier = [b.outlier ? 'before' : '', a.outlier ? 'after' : ''].filter(Boolean).join(' and ');
  return html`<strong>Channel ${c}</strong> — <span class="before">before: min ${formatNumber(b.min)}, max ${formatNumber(b.max)}, mean ${formatNumber(b.mean)}</span>;
    <span class="after">after: min ${formatNumber(a.min)}, max ${formatNumber(a.max)}, mean ${formatNumber(a.mean)}</span>;
    relative range ${formatNumber(b.relativeRange)} → ${formatNumber(a.relativeRange)}${
      outlier ? html` — <span class="outlier">outlier ${outlier}</span>` : nothing
    }`;
}
